//! `glueops.yaml`: the platform — clusters, environments, promotion rules, previews, and where
//! the manifests go.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::values::SecretStoreKind;

/// The `apiVersion` glueops reads.
pub const API_VERSION: &str = "glueops.dev/v1alpha1";

/// The whole `glueops.yaml` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Platform {
    /// Must be `glueops.dev/v1alpha1`.
    pub api_version: String,
    /// Must be `Platform`.
    pub kind: String,
    /// Names the platform.
    pub metadata: Metadata,
    /// The platform.
    pub spec: PlatformSpec,
}

/// Object metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The platform's name (a DNS label).
    pub name: String,
}

/// The platform.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformSpec {
    /// Semver requirement on glueops itself, e.g. `">=0.1.0"`.
    pub requires: Option<String>,
    /// Which GitOps engine deploys the manifest repo.
    pub delivery: Delivery,
    /// Where rendered manifests are committed.
    pub manifest_repo: ManifestRepo,
    /// The External Secrets store every app reads from.
    pub secret_store: Option<PlatformSecretStore>,
    /// Kubernetes clusters.
    pub clusters: Vec<Cluster>,
    /// Environments, each on one cluster.
    pub environments: Vec<Environment>,
    /// Pull-request preview environments.
    pub previews: Option<Previews>,
    /// The cluster-scoped kinds an app may render in `customResources` (default none: a
    /// ClusterRoleBinding or a ClusterIssuer in an app's values is refused at validate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_scoped_kinds: Vec<String>,
    /// Secrets the platform creates in every app namespace (a registry pull secret, say): an
    /// app may name them in `image.pullSecrets` without creating them itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provided_secrets: Vec<String>,
}

/// A GitOps engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Argo CD Applications.
    Argocd,
    /// Flux Kustomizations.
    Flux,
}

impl Delivery {
    /// The folder of each cluster in the manifest repo that holds the delivery objects:
    /// `argocd` or `flux`.
    pub fn folder(self) -> &'static str {
        match self {
            Delivery::Argocd => "argocd",
            Delivery::Flux => "flux",
        }
    }
}

/// The manifest repository.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestRepo {
    /// Clone URL.
    pub url: String,
    /// Branch (default `main`).
    pub branch: Option<String>,
    /// Folder inside the repo (default the root).
    pub path: Option<String>,
}

/// The platform's External Secrets store.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformSecretStore {
    /// Store name.
    pub name: String,
    /// Store kind (default `ClusterSecretStore`).
    pub kind: Option<SecretStoreKind>,
    /// Scheduled backups of the store (`glueops serve --store URL` runs them).
    pub backup: Option<SecretBackup>,
}

/// Scheduled, age-encrypted backups of every version of every secret in the store.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretBackup {
    /// How often, as a duration (`10m`, `1h`).
    pub schedule: String,
    /// The folder archives are written to (named by time, pruned to `keep`).
    pub to: String,
    /// Who may read the archives (`age1...`): informational. `glueops serve` encrypts to
    /// the recipients of its own `--backup-recipients` file only, and refuses to back up
    /// while this list names anyone that file does not (a merged config change can never
    /// add a reader of every secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// How many archives to keep (default 7).
    pub keep: Option<usize>,
}

/// A Kubernetes cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    /// Cluster name (a DNS label).
    pub name: String,
    /// API server URL.
    pub server: String,
    /// The cluster's captain domain (`{{ .Values.captain_domain }}`).
    pub captain_domain: String,
}

/// An environment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// Environment name (a DNS label; `previews` is reserved).
    pub name: String,
    /// The cluster it runs on.
    pub cluster: String,
    /// Its namespace (default the environment name).
    pub namespace: Option<String>,
    /// How new versions reach it.
    pub promotion: Option<Promotion>,
}

impl Environment {
    /// The namespace: `namespace`, or the environment name.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.name)
    }
}

/// Promotion rules of an environment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    /// Deploy new images without a promotion step.
    pub auto: Option<bool>,
    /// The environment versions are promoted from.
    pub from: Option<String>,
    /// Approvals a promotion needs.
    pub approval: Option<Approval>,
    /// When promotions may deploy; outside every window they wait.
    pub windows: Option<Vec<DeployWindow>>,
    /// How changes reach the config branch: `direct` commits (the default), or a pull
    /// request per app and environment that people or branch protection merge.
    pub mode: Option<PromotionMode>,
    /// With `mode: pull-request`: ask the forge to merge the pull request once its required
    /// checks pass.
    pub auto_merge: Option<bool>,
    /// What must hold of the release in `from` before it goes further.
    pub requires: Option<Requires>,
}

/// How changes reach the config branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PromotionMode {
    /// glueops commits to the config branch.
    Direct,
    /// glueops opens a pull request per app and environment.
    PullRequest,
}

/// Verification gates: what must hold of the `from` environment's release.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requires {
    /// Commit statuses or check runs that must be green on the release being promoted (its
    /// config commit or its manifest commit).
    pub checks: Option<Vec<String>>,
    /// How long the release must have run in `from` (a Go duration: `30m`, `2h`).
    pub soak: Option<String>,
}

impl Requires {
    /// The soak time in seconds (`None` when unset or not a duration: the load reports it).
    pub fn soak_seconds(&self) -> Option<u64> {
        self.soak
            .as_deref()
            .and_then(|s| crate::formats::go_duration_seconds(s).ok())
    }
}

/// Required approvals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approval {
    /// How many distinct approvers.
    pub required: u32,
    /// Who may approve.
    pub approvers: Vec<String>,
}

/// A weekly deploy window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployWindow {
    /// Days of the week.
    pub days: Vec<Weekday>,
    /// Opens at `HH:MM`.
    pub start: String,
    /// Closes at `HH:MM` (after `start`).
    pub end: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

/// A day of the week.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[expect(
    missing_docs,
    reason = "the variants are the days of the week: Mon..Sun say it all"
)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Pull-request previews.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Previews {
    /// Previews on or off.
    pub enabled: bool,
    /// The cluster previews run on.
    pub cluster: String,
    /// The overlay environment (`env-overlays/<environment>/`); default `previews`.
    pub environment: Option<String>,
    /// Namespace per preview; placeholders `{app}`, `{number}`. Default `{app}-pr-{number}`.
    pub namespace_pattern: Option<String>,
    /// Hostname per preview; placeholders `{app}`, `{number}`, `{captainDomain}`.
    pub hostname_pattern: Option<String>,
    /// How long a preview lives after its last update (Go duration, e.g. `168h`).
    pub ttl: Option<String>,
    /// Pull-request labels that turn a preview on or off.
    pub labels: Option<PreviewLabels>,
    /// Previews of pull requests from forks (untrusted code): `deny` (the default) or
    /// `allow`, and then only once someone other than the author adds an `labels.optIn`
    /// label; new commits on the fork wait for the label to be added again.
    pub forks: Option<ForkPreviews>,
}

/// Whether pull requests from forks get previews.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ForkPreviews {
    /// Never (the default).
    #[default]
    Deny,
    /// When someone other than the author adds an opt-in label.
    Allow,
}

/// Which pull requests get a preview, by label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewLabels {
    /// When set, only pull requests with one of these labels get a preview; one that loses
    /// the last of them has its preview closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_in: Vec<String>,
    /// Pull requests with one of these labels get no preview (closed if open).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_out: Vec<String>,
}

impl PreviewLabels {
    /// Whether a pull request with `labels` gets a preview.
    pub fn admits(&self, labels: &[String]) -> bool {
        let has = |set: &[String]| labels.iter().any(|l| set.contains(l));
        (self.opt_in.is_empty() || has(&self.opt_in)) && !has(&self.opt_out)
    }
}

impl Previews {
    /// The overlay environment name.
    pub fn environment(&self) -> &str {
        self.environment.as_deref().unwrap_or("previews")
    }

    /// The namespace pattern.
    pub fn namespace_pattern(&self) -> &str {
        self.namespace_pattern
            .as_deref()
            .unwrap_or("{app}-pr-{number}")
    }

    /// The hostname pattern.
    pub fn hostname_pattern(&self) -> &str {
        self.hostname_pattern
            .as_deref()
            .unwrap_or("{app}-pr-{number}.apps.{captainDomain}")
    }
}

impl Platform {
    /// Reads `glueops.yaml` into its type, without the located diagnostics of
    /// [`crate::Repo::load`] (`None` when it does not read; a load then says why): for tools
    /// that need a setting before they load the repo.
    pub fn from_yaml(text: &str) -> Option<Platform> {
        glueops_yaml::deserialize(text, glueops_yaml::Limits::Config).ok()
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.spec.environments.iter().find(|e| e.name == name)
    }

    /// The cluster called `name`.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.spec.clusters.iter().find(|c| c.name == name)
    }

    /// The names of the declared clusters, in declaration order.
    pub fn cluster_names(&self) -> Vec<&str> {
        self.spec.clusters.iter().map(|c| c.name.as_str()).collect()
    }

    /// The preview settings when previews are enabled.
    pub fn previews(&self) -> Option<&Previews> {
        self.spec.previews.as_ref().filter(|p| p.enabled)
    }
}
