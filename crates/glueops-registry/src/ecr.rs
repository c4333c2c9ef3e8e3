//! Amazon ECR: a registry whose password is a token from `ecr:GetAuthorizationToken`, for
//! the AWS credentials of the default chain (environment, profile, web identity, instance
//! metadata). Behind the `aws` feature; without it, an ECR registry needs a `config.json`
//! entry (`aws ecr get-login-password | docker login`).

use crate::Error;
use crate::auth::Credential;

/// Which registries are ECR, and where its API answers.
#[derive(Debug, Clone, Default)]
pub struct Ecr {
    /// Registries (`host:port`) that take ECR tokens besides
    /// `<account>.dkr.ecr.<region>.amazonaws.com` (a pull-through cache behind another name).
    pub hosts: Vec<String>,
    /// Another endpoint for the ECR API (a VPC endpoint, LocalStack, moto).
    pub endpoint: Option<String>,
}

impl Ecr {
    /// Whether `host` takes ECR tokens; its region when the name says it.
    pub(crate) fn region_of(&self, host: &str) -> Option<Option<String>> {
        let lower = host.to_ascii_lowercase();
        if self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Some(None);
        }
        let rest = lower
            .strip_suffix(".amazonaws.com")
            .or_else(|| lower.strip_suffix(".amazonaws.com.cn"))?;
        let mut parts = rest.split('.');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some(account), Some("dkr"), Some(ecr), Some(region), None)
                if account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && (ecr == "ecr" || ecr == "ecr-fips") =>
            {
                Some(Some(region.to_string()))
            }
            _ => None,
        }
    }
}

/// The registry credential an ECR token stands for (user `AWS`), and how long it is good.
#[cfg(feature = "aws")]
pub(crate) async fn credential(
    ecr: &Ecr,
    region: Option<String>,
    registry: &str,
) -> Result<(Credential, std::time::Duration), Error> {
    use aws_config::BehaviorVersion;
    use base64::Engine as _;
    let refuse = |reason: String| Error::Auth {
        operation: "fetch an ECR token",
        registry: registry.to_string(),
        reason,
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(endpoint) = &ecr.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let client = aws_sdk_ecr::Client::new(&loader.load().await);
    let answer = client.get_authorization_token().send().await.map_err(|e| {
        // The SDK's message names the service's error code, never a credential.
        refuse(format!(
            "ecr:GetAuthorizationToken failed: {}",
            aws_sdk_ecr::error::DisplayErrorContext(&e)
        ))
    })?;
    let data = answer
        .authorization_data()
        .first()
        .ok_or_else(|| refuse("ECR answered no authorization data".into()))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| refuse("ECR answered no token".into()))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| refuse("the ECR token is not base64 of user:password".into()))?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or_else(|| refuse("the ECR token is not base64 of user:password".into()))?;
    // Tokens last 12 hours; kept until 5 minutes before they expire (at least a minute).
    let left = data
        .expires_at()
        .map(|at| at.secs() - jiff::Timestamp::now().as_second() - 300)
        .unwrap_or(0);
    let lifetime = std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0).max(60));
    Ok((
        Credential {
            username: username.to_string(),
            password: secrecy::SecretString::from(password.to_string()),
        },
        lifetime,
    ))
}

/// Without the `aws` feature: what to do instead.
#[cfg(not(feature = "aws"))]
pub(crate) async fn credential(
    _ecr: &Ecr,
    _region: Option<String>,
    registry: &str,
) -> Result<(Credential, std::time::Duration), Error> {
    Err(Error::Auth {
        operation: "fetch an ECR token",
        registry: registry.to_string(),
        reason: "this glueops was built without the `aws` feature: give --registry-auth-file with an entry for the registry (`aws ecr get-login-password | docker login`), or build with --features aws".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts_are_recognised_by_name_or_by_setting() {
        let ecr = Ecr {
            hosts: vec!["registry.internal:5000".into()],
            endpoint: None,
        };
        assert_eq!(
            ecr.region_of("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(Some("eu-west-1".into()))
        );
        assert_eq!(
            ecr.region_of("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"),
            Some(Some("us-east-1".into()))
        );
        assert_eq!(ecr.region_of("registry.internal:5000"), Some(None));
        for other in [
            "ghcr.io",
            "12345.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.io",
            "public.ecr.aws",
        ] {
            assert_eq!(ecr.region_of(other), None, "{other}");
        }
    }
}
