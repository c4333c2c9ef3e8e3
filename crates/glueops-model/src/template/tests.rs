//! The template engine on its own: forms, functions, failures and what it reads.

use super::*;

fn scope(values: &Json) -> Scope<'_> {
    Scope {
        values,
        release: "web-staging",
        namespace: "staging",
        app_name: "web",
    }
}

fn run(text: &str) -> Result<String, String> {
    let values = serde_json::json!({
        "reference_domain": "example.com",
        "optional_resource": {"enabled": true, "size": "large"},
        "fruit_colors": {"pear": "green", "apple": "red"},
        "off": false,
    });
    render(text, &scope(&values))
        .map(|(s, _)| s)
        .map_err(|failures| format!("{failures:?}"))
}

#[test]
fn values_release_chart_and_app_name() {
    assert_eq!(
        run("foo.{{ .Values.reference_domain }}").unwrap(),
        "foo.example.com"
    );
    assert_eq!(
        run("{{ .Release.Name }}/{{ .Release.Namespace }}").unwrap(),
        "web-staging/staging"
    );
    assert_eq!(
        run("{{ .Chart.Name }}.example.com").unwrap(),
        "app.example.com"
    );
    assert_eq!(run("{{ template \"app.name\" . }}-cm").unwrap(), "web-cm");
    assert_eq!(run("{{ include \"app.name\" $ }}-x").unwrap(), "web-x");
    assert_eq!(
        run("{{ .Values.reference_domain | upper | quote }}").unwrap(),
        "\"EXAMPLE.COM\""
    );
    assert_eq!(run("{{ .Values.missing | default \"d\" }}").unwrap(), "d");
}

#[test]
fn if_else_range_and_trimming() {
    let text = "a:\n  {{- if .Values.optional_resource.enabled }}\n  size: {{ .Values.optional_resource.size }}\n  {{- end }}\n";
    assert_eq!(run(text).unwrap(), "a:\n  size: large\n");
    assert_eq!(
        run("{{ if .Values.off }}yes{{ else }}no{{ end }}").unwrap(),
        "no"
    );
    let text = "{{- range $fruit, $color := .Values.fruit_colors }}\n- {{ $fruit }}={{ $color }}\n{{- end }}";
    assert_eq!(run(text).unwrap(), "\n- apple=red\n- pear=green");
    assert_eq!(run("{{/* a comment */}}x").unwrap(), "x");
}

#[test]
fn what_is_not_read_is_an_error() {
    for text in [
        "{{ .Values.missing }}",
        "{{ .Capabilities.KubeVersion }}",
        "{{ lookup \"v1\" \"Secret\" \"ns\" \"n\" }}",
        "{{ if .Values.off }}never closed",
        "{{ end }}",
        "{{ .Values.fruit_colors }}",
        "{{ .Values.x | b64enc }}",
        "{{ env \"HOME\" }}",
        "{{ randAlphaNum 8 }}",
        "{{ now }}",
        "{{ .Values.reference_domain | trunc }}",
        "{{ printf \"%x\" 1 }}",
        "{{ with .Values.x }}{{ end }}",
        "{{ unclosed",
    ] {
        assert!(run(text).is_err(), "{text} should be refused");
    }
}

#[test]
fn the_pure_sprig_functions_real_repos_use() {
    for (text, want) in [
        ("{{ .Values.reference_domain | trunc 7 }}", "example"),
        ("{{ trunc -3 .Values.reference_domain }}", "com"),
        ("{{ include \"app.namespace\" . }}", "staging"),
        ("{{ include \"app.name\" . | upper | trunc 2 }}", "WE"),
        (
            "{{ .Values.reference_domain | replace \".\" \"-\" }}",
            "example-com",
        ),
        (
            "{{ .Values.reference_domain | trimSuffix \".com\" }}",
            "example",
        ),
        (
            "{{ trimPrefix \"exa\" .Values.reference_domain }}",
            "mple.com",
        ),
        (
            "{{ printf \"%s-%s|%d%%\" .Release.Name \"x\" 5 }}",
            "web-staging-x|5%",
        ),
        (
            "{{ .Values.reference_domain | b64enc }}",
            "ZXhhbXBsZS5jb20=",
        ),
        ("{{ \"abc\" | sha256sum | trunc 12 }}", "ba7816bf8f01"),
        ("{{ .Values.reference_domain | squote }}", "'example.com'"),
        ("{{ default \"d\" .Values.missing }}", "d"),
        (
            "{{ .Values.reference_domain | default \"d\" }}",
            "example.com",
        ),
    ] {
        assert_eq!(run(text).as_deref(), Ok(want), "{text}");
    }
}

#[test]
fn every_failing_action_is_reported_at_its_braces() {
    let values = serde_json::json!({"a": "x"});
    let text = "ok {{ .Values.a }} bad {{ .Values.nope }}\nworse {{ env \"HOME\" }}";
    let failures = render(text, &scope(&values)).unwrap_err();
    let at: Vec<usize> = failures.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        at,
        [
            text.find("{{ .Values.nope").unwrap(),
            text.find("{{ env").unwrap()
        ]
    );
}

#[test]
fn reports_the_values_it_read() {
    let values = serde_json::json!({"a": 1, "b": {"c": 2}});
    let (_, read) = render("{{ .Values.a }}{{ $.Values.b.c }}", &scope(&values)).unwrap();
    assert_eq!(read.into_iter().collect::<Vec<_>>(), ["a", "b"]);
}
