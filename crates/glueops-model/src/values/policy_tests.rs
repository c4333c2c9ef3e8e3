use super::*;
use proptest::prelude::*;

fn policy(yaml: serde_json::Value) -> TagPolicy {
    let p: ImagePolicy = serde_json::from_value(yaml).unwrap();
    p.compile().unwrap()
}

fn tags(list: &[&str]) -> Vec<Candidate> {
    list.iter()
        .map(|t| Candidate {
            tag: (*t).to_string(),
            created: None,
        })
        .collect()
}

#[test]
fn semver_takes_the_greatest_version_in_range_and_says_why_others_were_skipped() {
    let p = policy(serde_json::json!({"semver": ">=1.4.0 <2.0.0"}));
    let c = p.choose(&tags(&[
        "1.3.9",
        "1.4.0",
        "v1.10.2",
        "1.9.0",
        "2.0.0",
        "1.11.0-rc.1",
        "latest",
    ]));
    assert_eq!(c.chosen.as_deref(), Some("v1.10.2"));
    assert_eq!(c.allowed, 3);
    assert_eq!(c.skipped["not a semantic version"], ["latest"]);
    assert_eq!(
        c.skipped["outside the range >=1.4.0 <2.0.0"],
        ["1.3.9", "2.0.0"]
    );
    assert_eq!(
        c.skipped["a pre-release the range does not name"],
        ["1.11.0-rc.1"]
    );
}

#[test]
fn ranges_are_read_as_npm_helm_and_cargo_write_them() {
    for (range, yes, no) in [
        (">= 1.4.0 < 2.0.0", "1.9.9", "2.0.0"),
        (">=1.4.0, <2.0.0", "1.4.0", "1.3.0"),
        ("^1.4 || ~2.1", "2.1.5", "2.2.0"),
        (">=v1.4.0", "1.4.1", "1.3.0"),
        ("1.x", "1.7.0", "2.0.0"),
    ] {
        let p = policy(serde_json::json!({ "semver": range }));
        assert!(p.admits(yes).is_ok(), "{range} admits {yes}");
        assert!(p.admits(no).is_err(), "{range} refuses {no}");
    }
}

#[test]
fn a_tag_glueops_would_not_write_is_never_chosen() {
    let p = policy(serde_json::json!({"pattern": "^main-", "order": null, "newest": true}));
    let at = Some(Timestamp::from_second(10).unwrap());
    let c = p.choose(&[
        Candidate {
            tag: "main-1\nimage: evil".into(),
            created: at,
        },
        Candidate {
            tag: "main-2@sha256:00".into(),
            created: at,
        },
        Candidate {
            tag: format!("main-{}", "x".repeat(200)),
            created: at,
        },
        Candidate {
            tag: "main-3".into(),
            created: Some(Timestamp::from_second(1).unwrap()),
        },
    ]);
    assert_eq!(c.chosen.as_deref(), Some("main-3"));
    assert_eq!(c.skipped["not a valid image tag"].len(), 3);
}

#[test]
fn a_range_that_names_a_pre_release_allows_it() {
    let p = policy(serde_json::json!({"semver": ">=1.5.0-rc.0"}));
    let c = p.choose(&tags(&["1.4.0", "1.5.0-rc.1", "1.5.0-rc.2"]));
    assert_eq!(c.chosen.as_deref(), Some("1.5.0-rc.2"));
    // ... and the release itself outranks its candidates.
    let c = p.choose(&tags(&["1.5.0-rc.2", "1.5.0"]));
    assert_eq!(c.chosen.as_deref(), Some("1.5.0"));
}

#[test]
fn a_pattern_orders_by_its_group_numbers_as_numbers() {
    let p =
        policy(serde_json::json!({"pattern": "^main-(?P<ts>[0-9]+)-[0-9a-f]{7}$", "order": "ts"}));
    let c = p.choose(&tags(&[
        "main-9-abcdef0",
        "main-10-1234567",
        "feature-99-abcdef0",
        "main-11-XYZ",
    ]));
    assert_eq!(c.chosen.as_deref(), Some("main-10-1234567"));
    assert_eq!(
        c.skipped["does not match the pattern"],
        ["feature-99-abcdef0", "main-11-XYZ"]
    );
}

#[test]
fn newest_goes_by_creation_time_and_skips_images_without_one() {
    let at = |s: i64| Some(Timestamp::from_second(s).unwrap());
    let p = policy(serde_json::json!({"newest": true}));
    assert!(p.needs_created());
    let c = p.choose(&[
        Candidate {
            tag: "b".into(),
            created: at(200),
        },
        Candidate {
            tag: "a".into(),
            created: at(300),
        },
        Candidate {
            tag: "c".into(),
            created: None,
        },
    ]);
    assert_eq!(c.chosen.as_deref(), Some("a"));
    assert_eq!(c.skipped["the image records no creation time"], ["c"]);
    // With a pattern, only its tags are candidates (and only they need a creation time).
    let p = policy(serde_json::json!({"pattern": "^rel-", "newest": true}));
    assert!(p.admits("rel-1").is_ok());
    assert!(p.admits("main-1").is_err());
}

#[test]
fn forward_never_moves_back_below_a_version_set_by_hand() {
    let p = policy(serde_json::json!({"semver": "^1.4"}));
    let c = |t: &str| Candidate {
        tag: t.into(),
        created: None,
    };
    assert!(p.forward(&c("1.4.0"), &c("1.5.0")));
    assert!(!p.forward(&c("1.5.0"), &c("1.5.0")));
    // 2.0.0 was set by hand, above the range: the range's best is not forward of it.
    assert!(!p.forward(&c("2.0.0"), &c("1.9.0")));
    // A tag of another scheme (a commit tag from a preview) is left for the policy's.
    assert!(p.forward(&c("abc1234"), &c("1.5.0")));
}

#[test]
fn a_policy_that_cannot_choose_is_refused_with_the_key_at_fault() {
    let err = |v: serde_json::Value| {
        serde_json::from_value::<ImagePolicy>(v)
            .unwrap()
            .compile()
            .unwrap_err()
    };
    assert_eq!(err(serde_json::json!({})).0, "semver");
    assert_eq!(err(serde_json::json!({"semver": "one"})).0, "semver");
    assert_eq!(
        err(serde_json::json!({"semver": "^1", "pattern": "x"})).0,
        "pattern"
    );
    assert_eq!(err(serde_json::json!({"pattern": "("})).0, "pattern");
    assert_eq!(err(serde_json::json!({"pattern": "^x"})).0, "pattern");
    assert_eq!(
        err(serde_json::json!({"pattern": "^(?P<n>x)", "order": "ts"})).0,
        "order"
    );
    assert_eq!(
        err(serde_json::json!({"semver": "^1", "newest": true})).0,
        "newest"
    );
    assert!(serde_json::from_value::<ImagePolicy>(serde_json::json!({"pin": "tag"})).is_err());
}

fn arb_tag() -> impl Strategy<Value = Candidate> {
    let version =
        (0u64..4, 0u64..12, 0u64..12, proptest::option::of(0u64..3)).prop_map(|(a, b, c, pre)| {
            match pre {
                Some(p) => format!("{a}.{b}.{c}-rc.{p}"),
                None => format!("{a}.{b}.{c}"),
            }
        });
    let build = (0u32..2000, "[0-9a-f]{7}").prop_map(|(n, h)| format!("main-{n}-{h}"));
    let other = "[a-z]{1,6}";
    (
        prop_oneof![version, build, other],
        proptest::option::of(0i64..1_000_000),
    )
        .prop_map(|(tag, s)| Candidate {
            tag,
            created: s.and_then(|s| Timestamp::from_second(s).ok()),
        })
}

proptest! {
    /// Over a registry's tag list (each tag once): the chosen tag is allowed, and no allowed
    /// tag ranks above it (ties: its text is the greatest); with nothing allowed nothing is
    /// chosen; skipped and allowed add up.
    #[test]
    fn the_chosen_tag_is_the_maximum_of_the_allowed_set(
        listed in proptest::collection::vec(arb_tag(), 0..60),
        which in 0usize..4,
    ) {
        let mut seen = std::collections::BTreeSet::new();
        let candidates: Vec<Candidate> =
            listed.into_iter().filter(|c| seen.insert(c.tag.clone())).collect();
        let p = policy(match which {
            0 => serde_json::json!({"semver": ">=1.2.0 <3.0.0"}),
            1 => serde_json::json!({"semver": ">=1.0.0-rc.0"}),
            2 => serde_json::json!({"pattern": "^main-(?P<n>[0-9]+)-", "order": "n"}),
            _ => serde_json::json!({"newest": true}),
        });
        let choice = p.choose(&candidates);
        let allowed: Vec<(Rank, &str)> = candidates
            .iter()
            .filter_map(|c| p.rank(c).ok().map(|r| (r, c.tag.as_str())))
            .collect();
        prop_assert_eq!(choice.allowed, allowed.len());
        let skipped: usize = choice.skipped.values().map(Vec::len).sum();
        prop_assert_eq!(skipped + allowed.len(), candidates.len());
        match &choice.chosen {
            None => prop_assert!(allowed.is_empty()),
            Some(chosen) => {
                let (rank, _) = allowed.iter().find(|(_, t)| t == chosen).unwrap();
                for (r, t) in &allowed {
                    prop_assert!(r < rank || (r == rank && *t <= chosen.as_str()), "{t} outranks {chosen}");
                }
            }
        }
    }
}
