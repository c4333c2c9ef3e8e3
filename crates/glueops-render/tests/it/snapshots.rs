//! Reviewed snapshots of the demo render: the file layout, one object of every kind, and the
//! pull-request diff of an image bump.

use std::collections::BTreeMap;

use glueops_render::{ChangeKind, PreviewRequest, diff, markdown, render};

fn preview() -> Vec<PreviewRequest> {
    vec![PreviewRequest {
        app: "web".into(),
        number: 42,
        head_sha: Some("4f2a9c1".into()),
        branch: Some("feat/checkout".into()),
    }]
}

#[test]
fn layout_of_the_demo_render() {
    let set = render(&crate::support::demo(), &preview()).unwrap();
    let paths: Vec<&str> = set.iter().map(|m| m.path.as_str()).collect();
    insta::assert_snapshot!(paths.join("\n"));
}

#[test]
fn one_object_of_every_kind() {
    let mut seen = BTreeMap::new();
    for repo in [crate::support::demo(), crate::support::demo_flux()] {
        let set = render(&repo, &preview()).unwrap();
        for m in set.iter() {
            seen.entry(m.object.kind().to_string())
                .or_insert_with(|| format!("# {}\n{}", m.path, m.to_yaml().unwrap()));
        }
    }
    assert_eq!(
        seen.len(),
        18,
        "kinds: {:?}",
        seen.keys().collect::<Vec<_>>()
    );
    for (kind, yaml) in seen {
        insta::assert_snapshot!(format!("kind-{kind}"), yaml);
    }
}

#[test]
fn the_stream_holds_every_object_once() {
    let set = render(&crate::support::demo(), &preview()).unwrap();
    let stream = set.stream().unwrap();
    assert_eq!(stream.matches("---\n").count(), set.len());
    for m in set.iter() {
        assert!(stream.contains(&m.to_yaml().unwrap()), "{} missing", m.path);
    }
}

#[test]
fn an_image_bump_changes_only_the_workload() {
    let before = render(&crate::support::demo(), &[])
        .unwrap()
        .files()
        .unwrap();
    let mut tree = crate::support::demo_sources();
    tree.insert(
        "apps/api/envs/production/values.yaml",
        std::fs::read_to_string(
            crate::support::demo_path().join("apps/api/envs/production/values.yaml"),
        )
        .unwrap()
        .replace("tag: 1.4.2", "tag: 1.4.3"),
    );
    let repo = glueops_model::Repo::from_sources(&tree).unwrap();
    let after = render(&repo, &[]).unwrap().files().unwrap();
    let changes = diff(&before, &after);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].kind, ChangeKind::Changed);
    insta::assert_snapshot!(markdown(&changes));
    assert!(diff(&after, &after).is_empty());
}
