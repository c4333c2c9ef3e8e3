//! `set_image_tag` on generated values files: comments, flow and block styles, every quoting.
//! The edit changes only the tag's bytes, and the result reads as the old tree with the new tag.

use proptest::prelude::*;

/// A values file with a known tag position: (text, tag start, tag end).
#[derive(Debug, Clone)]
struct Values {
    text: String,
    start: usize,
    end: usize,
}

fn quoted(tag: &str, quote: u8) -> String {
    match quote {
        0 => format!("\"{tag}\""),
        1 => format!("'{tag}'"),
        _ => tag.to_string(),
    }
}

prop_compose! {
    fn values()(
        before in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{1,6}", any::<bool>()), 0..4),
        after in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{1,6}", any::<bool>()), 0..4),
        flow in any::<bool>(),
        quote in 0u8..3,
        tag_first in any::<bool>(),
        old in "v?[0-9]\\.[0-9]{1,2}\\.[0-9]{1,2}(-rc\\.[0-9])?",
        indent in 2usize..5,
    ) -> Values {
        let mut text = String::from("# values for this environment\n");
        let line = |out: &mut String, key: String, (_, v, comment): &(String, String, bool)| {
            out.push_str(&format!("{key}: x{v}{}\n", if *comment { "  # note" } else { "" }));
        };
        for (i, entry) in before.iter().enumerate() {
            line(&mut text, format!("b{i}{}", entry.0), entry);
        }
        let tag = quoted(&old, quote);
        let (start, end);
        if flow {
            text.push_str("image: {");
            if !tag_first { text.push_str("repository: acme/api, "); }
            text.push_str("tag: ");
            start = text.len();
            text.push_str(&tag);
            end = text.len();
            if tag_first { text.push_str(", registry: ghcr.io"); }
            text.push_str("}  # pinned\n");
        } else {
            let pad = " ".repeat(indent);
            text.push_str("image:\n");
            if !tag_first { text.push_str(&format!("{pad}repository: acme/api # the repo\n")); }
            text.push_str(&format!("{pad}tag: "));
            start = text.len();
            text.push_str(&tag);
            end = text.len();
            text.push_str("   # bumped by CI\n");
            if tag_first { text.push_str(&format!("{pad}registry: ghcr.io\n")); }
        }
        for (i, entry) in after.iter().enumerate() {
            line(&mut text, format!("a{i}{}", entry.0), entry);
        }
        Values { text, start, end }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn only_the_tag_bytes_change(v in values(), new in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-[a-z]{1,5})?") {
        let out = glueops::set_image_tag(&v.text, &new).unwrap();
        // Everything before and after the scalar is byte for byte the same.
        prop_assert_eq!(&out[..v.start], &v.text[..v.start]);
        let suffix = &v.text[v.end..];
        prop_assert!(out.ends_with(suffix));
        let written = &out[v.start..out.len() - suffix.len()];
        // In the old scalar's quotes; plain only where it reads back as a string.
        let first = v.text.as_bytes()[v.start];
        match first {
            b'"' => prop_assert_eq!(written, format!("\"{new}\"")),
            b'\'' => prop_assert_eq!(written, format!("'{new}'")),
            _ => {
                let double = format!("\"{new}\"");
                prop_assert!(written == new || written == double, "{}", written);
            }
        }
        // And it parses to the old tree with the new tag.
        let mut expected = glueops_yaml::parse(&v.text).unwrap();
        let glueops_yaml::Tree::Map(entries) = &mut expected else { panic!("a map") };
        let (_, image) = entries.iter_mut().find(|(k, _)| k == "image").unwrap();
        let glueops_yaml::Tree::Map(fields) = image else { panic!("a map") };
        fields.iter_mut().find(|(k, _)| k == "tag").unwrap().1 = glueops_yaml::Tree::Text(new.clone());
        prop_assert_eq!(glueops_yaml::parse(&out).unwrap(), expected);
    }

    #[test]
    fn setting_the_same_tag_twice_is_one_edit(v in values(), new in "[0-9]\\.[0-9]\\.[0-9]") {
        let once = glueops::set_image_tag(&v.text, &new).unwrap();
        prop_assert_eq!(glueops::set_image_tag(&once, &new).unwrap(), once);
    }
}

/// The QA-shaped fixture's values files (crates/glueops-render/tests/fixtures/glueops-repos/qa):
/// a bump changes the tag and keeps every other byte, the sentinel comments included.
#[test]
fn a_bump_keeps_the_qa_fixtures_sentinel_comments() {
    let root = glueops_testkit::workspace()
        .join("crates/glueops-render/tests/fixtures/glueops-repos/qa/apps");
    for app in ["test-app", "flow-app"] {
        let text = std::fs::read_to_string(root.join(app).join("envs/prod/values.yaml")).unwrap();
        let bumped = glueops::set_image_tag(&text, "abc1234").unwrap();
        assert!(
            bumped.contains("tag: \"abc1234\"") || bumped.contains("tag: abc1234"),
            "{bumped}"
        );
        let (old, new): (Vec<&str>, Vec<&str>) = (text.lines().collect(), bumped.lines().collect());
        assert_eq!(old.len(), new.len());
        let changed: Vec<_> = old.iter().zip(&new).filter(|(a, b)| a != b).collect();
        assert_eq!(changed.len(), 1, "{bumped}");
        assert!(changed[0].0.contains("tag:"), "{changed:?}");
        assert!(bumped.contains("sentinel"), "{bumped}");
    }
}
