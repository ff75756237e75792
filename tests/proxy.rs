//! The fault proxy (harness/fault_proxy.py) in front of the emulator, seen by
//! the AWS SDK that ecsflow uses: a throttling window on DescribeServices is
//! what the client gets, and it clears.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;
#[path = "common/proxy.rs"]
mod proxy;

use std::time::{Duration, Instant};

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_setup::Account;
use emulator::Emulator;
use proxy::Proxy;
use serde_json::json;

#[test]
fn a_throttling_window_on_describe_services_reaches_the_sdk_and_clears() {
    let emulator = Emulator::start(0.2);
    let proxy = Proxy::start(&emulator.endpoint());
    let account = Account::new(&proxy.endpoint());
    account.cluster("flaky");
    // No SDK retries: every throttled answer is seen.
    let config =
        account.ecs.config().to_builder().retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled()).build();
    let ecs = aws_sdk_ecs::Client::from_conf(config);
    // The SDK's error is large; the test only reads its code and message.
    let describe =
        || account.runtime.block_on(ecs.describe_services().cluster("flaky").services("web").send()).map_err(Box::new);

    let windows = proxy.fault(json!({"action": "DescribeServices", "kind": "throttle", "seconds": 1.0}));
    let opened = Instant::now();
    assert_eq!(windows.len(), 1);
    let err = describe().expect_err("throttled while the window is open");
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(err.message(), Some("Rate exceeded"));
    // Other actions pass meanwhile.
    account.runtime.block_on(ecs.list_services().cluster("flaky").send()).unwrap();

    std::thread::sleep(Duration::from_secs(1).saturating_sub(opened.elapsed()) + Duration::from_millis(50));
    let out = describe().expect("the window has closed");
    assert_eq!(out.failures()[0].reason(), Some("MISSING"));

    let seen: Vec<(String, String)> = proxy
        .log()
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or("").to_string(), e["did"].as_str().unwrap().to_string()))
        .collect();
    let seen: Vec<(&str, &str)> = seen.iter().map(|(a, d)| (a.as_str(), d.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("CreateCluster", "forward"),
            ("DescribeServices", "throttle"),
            ("ListServices", "forward"),
            ("DescribeServices", "forward"),
        ]
    );

    // A count window with the SDK's own retries (short backoff): two throttles, then success.
    proxy.fault(json!({"action": "DescribeServices", "kind": "throttle", "count": 2}));
    let retry = aws_sdk_ecs::config::retry::RetryConfig::standard().with_initial_backoff(Duration::from_millis(20));
    let retrying = aws_sdk_ecs::Client::from_conf(account.ecs.config().to_builder().retry_config(retry).build());
    account.runtime.block_on(retrying.describe_services().cluster("flaky").services("web").send()).unwrap();
    let last: Vec<String> = proxy.log().iter().rev().take(3).map(|e| e["did"].as_str().unwrap().to_string()).collect();
    assert_eq!(last, ["forward", "throttle", "throttle"]);
}
