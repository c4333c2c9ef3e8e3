//! The verification gates (`promotion.requires`): soak and checks of the release in `from`.

use super::*;
use crate::model::platform::{Promotion, Requires};

fn production(checks: &[&str], soak: Option<&str>) -> Environment {
    Environment {
        name: "production".into(),
        cluster: "prod".into(),
        namespace: None,
        promotion: Some(Promotion {
            from: Some("staging".into()),
            requires: Some(Requires {
                checks: Some(checks.iter().map(|c| (*c).to_string()).collect()),
                soak: soak.map(str::to_string),
            }),
            ..Promotion::default()
        }),
    }
}

const RELEASED: i64 = 1_800_000_000;

fn evidence(checks: &[(&str, CheckState)]) -> Evidence {
    Evidence {
        config: Some("1a2b3c4d5e6f".into()),
        manifest: Some("9f8e7d6c5b4a".into()),
        released_at: Some(RELEASED),
        checks: checks
            .iter()
            .map(|(n, s)| ((*n).to_string(), s.clone()))
            .collect(),
        unreadable: None,
    }
}

fn after(minutes: i64) -> Timestamp {
    Timestamp::from_second(RELEASED + minutes * 60).unwrap()
}

#[test]
fn a_release_soaks_in_from_for_the_time_required() {
    let env = production(&[], Some("30m"));
    assert!(is_gated(&env));
    let holds = verify(&env, after(18), Some(&evidence(&[])));
    assert_eq!(holds.len(), 1);
    assert_eq!(
        holds[0].to_string(),
        "soaking in staging: 12 min of 30 min left"
    );
    assert_eq!(holds[0].rule(), "soak");
    assert_eq!(verify(&env, after(30), Some(&evidence(&[]))), Vec::new());
    // Never released in staging: the whole soak is left.
    let none = verify(&env, after(500), None);
    assert_eq!(
        none[0].to_string(),
        "soaking: staging has no release of it yet"
    );
}

#[test]
fn required_checks_hold_until_green_and_name_what_they_wait_for() {
    let env = production(&["smoke-tests", "e2e"], None);
    let url = Some("https://ci.example/run/7".to_string());
    let pending = evidence(&[
        ("smoke-tests", CheckState::Pending { url: None }),
        ("e2e", CheckState::Success),
    ]);
    let holds = verify(&env, after(0), Some(&pending));
    assert_eq!(
        holds[0].to_string(),
        "waiting for checks on staging's release 1a2b3c4: `smoke-tests`: pending"
    );
    let failed = evidence(&[
        ("smoke-tests", CheckState::Failure { url: url.clone() }),
        ("e2e", CheckState::Success),
    ]);
    assert_eq!(
        verify(&env, after(0), Some(&failed))[0].to_string(),
        "waiting for checks on staging's release 1a2b3c4: `smoke-tests` failed (https://ci.example/run/7)"
    );
    let missing = evidence(&[("e2e", CheckState::Success)]);
    let Hold::Checks { waiting, .. } = &verify(&env, after(0), Some(&missing))[0] else {
        panic!("not a checks hold");
    };
    assert_eq!(waiting[0].state, "missing");
    // All green: the gate is open (the positive control).
    let green = evidence(&[
        ("smoke-tests", CheckState::Success),
        ("e2e", CheckState::Success),
    ]);
    assert_eq!(verify(&env, after(0), Some(&green)), Vec::new());
    // Checks that cannot be read hold, saying why.
    let mut unreadable = evidence(&[]);
    unreadable.unreadable = Some("no forge to read them from".into());
    assert!(
        verify(&env, after(0), Some(&unreadable))[0]
            .to_string()
            .ends_with("(the checks cannot be read: no forge to read them from)")
    );
}

#[test]
fn an_environment_without_requires_is_not_verified() {
    let mut env = production(&[], None);
    assert!(!is_gated(&env), "an empty requires gates nothing");
    env.promotion = None;
    assert_eq!(verify(&env, after(0), None), Vec::new());
}
