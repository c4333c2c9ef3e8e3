//! [`Object`]: one rendered Kubernetes object of any kind glueops renders.

use k8s_openapi::Resource as _;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::custom::{
    AppProject, Application, CustomResource, ExternalSecret, GitRepository, Kustomization,
    PrometheusRule, RawObject, ScaledObject, ServiceMonitor, TriggerAuthentication,
};
use crate::rollouts::{AnalysisTemplate, Released, Rollout};

macro_rules! objects {
    (core: $($core:ident),*; custom: $($custom:ident),*) => {
        /// A rendered object, typed: core kinds with `k8s-openapi`, custom resources with the
        /// structs in [`crate::custom`].
        #[derive(Debug, Clone, PartialEq)]
        #[expect(missing_docs, reason = "each variant is the Kubernetes kind of the same name")]
        pub enum Object {
            $($core(Box<$core>),)*
            $($custom(Box<$custom>),)*
            /// An object of any kind, from `customResources`.
            Raw(Box<RawObject>),
        }

        impl Object {
            /// `apiVersion`.
            pub fn api_version(&self) -> &str {
                match self {
                    $(Object::$core(_) => <$core>::API_VERSION,)*
                    $(Object::$custom(_) => <$custom as CustomResource>::API_VERSION,)*
                    Object::Raw(o) => &o.api_version,
                }
            }

            /// `kind`.
            pub fn kind(&self) -> &str {
                match self {
                    $(Object::$core(_) => <$core>::KIND,)*
                    $(Object::$custom(_) => <$custom as CustomResource>::KIND,)*
                    Object::Raw(o) => &o.kind,
                }
            }

            /// `metadata`.
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$core(o) => &o.metadata,)*
                    $(Object::$custom(o) => CustomResource::metadata(o.as_ref()),)*
                    Object::Raw(o) => &o.metadata,
                }
            }

            /// True for custom resources (validated against CRDs, not core schemas); an
            /// object from `customResources` counts as core when its kind is a core kind.
            pub fn is_custom(&self) -> bool {
                match self {
                    $(Object::$core(_))|* => false,
                    // Built-in groups have no dot (`apps/v1`) or end in `.k8s.io`.
                    Object::Raw(o) => {
                        let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
                        group.contains('.') && !group.ends_with(".k8s.io")
                    }
                    _ => true,
                }
            }
        }

        impl Serialize for Object {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Object::$core(o) => o.serialize(s),)*
                    $(Object::$custom(o) => o.serialize(s),)*
                    Object::Raw(o) => o.serialize(s),
                }
            }
        }

        $(impl From<$core> for Object {
            fn from(o: $core) -> Self {
                Object::$core(Box::new(o))
            }
        })*
        $(impl From<$custom> for Object {
            fn from(o: $custom) -> Self {
                Object::$custom(Box::new(o))
            }
        })*
    };
}

objects!(
    core: Namespace, ServiceAccount, Deployment, StatefulSet, Service, Ingress,
        HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap, CronJob, Job,
        PersistentVolumeClaim, NetworkPolicy, RoleBinding;
    custom: ExternalSecret, ServiceMonitor, PrometheusRule, AppProject, Application,
        GitRepository, Kustomization, ScaledObject, TriggerAuthentication, Rollout,
        AnalysisTemplate
);

impl Object {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace`, for namespaced objects.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The file name of the object in its folder: `<kind>-<name>.yaml`, lowercase.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind().to_ascii_lowercase(), self.name())
    }
}

impl From<RawObject> for Object {
    fn from(o: RawObject) -> Self {
        Object::Raw(Box::new(o))
    }
}

impl From<Released> for Object {
    fn from(released: Released) -> Self {
        match released {
            Released::Deployment(d) => d.into(),
            Released::Rollout(r) => r.into(),
        }
    }
}
