//! Leases: the GET-then-PUT optimistic concurrency client-go's lease lock relies on.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use stallsim_apiserver::{lease_resource, ApiServerConfig, InProcessTransport};
use stallsim_client::{from_dynamic, to_dynamic, ApiClient, ApiError, RestClient};

use crate::support::{client, run, shared};

const NAMESPACE: &str = "shoot--foo";
const NAME: &str = "gardener-resource-manager";

fn renew_time(second: i64) -> Option<MicroTime> {
    Some(MicroTime(
        Timestamp::from_second(1_743_465_600 + second).unwrap(),
    ))
}

fn lease(holder: &str) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(NAME.to_string()),
            namespace: Some(NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_string()),
            lease_duration_seconds: Some(15),
            renew_time: renew_time(0),
            ..LeaseSpec::default()
        }),
    }
}

async fn read_lease(api: &RestClient<InProcessTransport>) -> Lease {
    let object = api
        .get(&lease_resource(), Some(NAMESPACE), NAME)
        .await
        .unwrap();
    from_dynamic(&object).unwrap()
}

#[test]
fn a_lease_round_trips_and_a_stale_holder_conflicts() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let leases = lease_resource();
        let created = api
            .create(&leases, &to_dynamic(&lease("replica-a")).unwrap())
            .await
            .unwrap();
        let created: Lease = from_dynamic(&created).unwrap();
        assert_eq!(created.metadata.resource_version.as_deref(), Some("1"));
        assert_eq!(created.spec, lease("replica-a").spec);

        // Both replicas read the lease; the holder renews first.
        let mut seen_by_a = read_lease(&api).await;
        let mut seen_by_b = read_lease(&api).await;
        assert_eq!(seen_by_a, created);

        seen_by_a.spec.as_mut().unwrap().renew_time = renew_time(2);
        let renewed = api
            .update(&leases, &to_dynamic(&seen_by_a).unwrap())
            .await
            .unwrap();
        let renewed: Lease = from_dynamic(&renewed).unwrap();
        assert_eq!(renewed.metadata.resource_version.as_deref(), Some("2"));
        assert_eq!(renewed.spec.as_ref().unwrap().renew_time, renew_time(2));

        seen_by_b.spec.as_mut().unwrap().holder_identity = Some("replica-b".to_string());
        let error = api
            .update(&leases, &to_dynamic(&seen_by_b).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(error, ApiError::Conflict(_)), "{error:?}");

        let fetched = read_lease(&api).await;
        assert_eq!(fetched, renewed, "the stale write changed nothing");
        assert_eq!(
            fetched.spec.unwrap().holder_identity.as_deref(),
            Some("replica-a")
        );
    });
}
