//! Puts a cluster, task definitions, a service and a scalable target into
//! moto with the AWS SDK, the way an account looks before a deploy.
#![allow(dead_code)]

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};
use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Secret};

pub struct Account {
    pub ecs: aws_sdk_ecs::Client,
    pub scaling: aws_sdk_applicationautoscaling::Client,
    pub runtime: tokio::runtime::Runtime,
}

impl Account {
    pub fn new(endpoint: &str) -> Account {
        Account::in_region(endpoint, "us-east-1")
    }

    pub fn in_region(endpoint: &str, region: &str) -> Account {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let config = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(aws_config::Region::new(region.to_string()))
                .credentials_provider(aws_sdk_ecs::config::Credentials::new("test", "test", None, None, "tests"))
                .load(),
        );
        Account {
            ecs: aws_sdk_ecs::Client::new(&config),
            scaling: aws_sdk_applicationautoscaling::Client::new(&config),
            runtime,
        }
    }

    /// The account most tests start from: cluster `prod`, service `web` on
    /// `web:1` (image `web:v1`, desired 2, 50–200 %, the breaker as given),
    /// stable, with scale-in alone suspended on its scalable target.
    pub fn with_web(endpoint: &str, breaker: bool) -> Account {
        let account = Account::new(endpoint);
        account.cluster("prod");
        let td = account.task_definition("web", "web", "web:v1");
        account.rolling_service("prod", "web", &td, 2, breaker);
        account.scalable_target("prod", "web", true);
        account
    }

    pub fn cluster(&self, name: &str) {
        self.runtime.block_on(self.ecs.create_cluster().cluster_name(name).send()).unwrap();
    }

    /// Registers a revision of `family` with one container `name` running `image`.
    pub fn task_definition(&self, family: &str, container: &str, image: &str) -> String {
        let definition = ContainerDefinition::builder()
            .name(container)
            .image(image)
            .memory(256)
            .essential(true)
            .environment(KeyValuePair::builder().name("LOG_LEVEL").value("info").build())
            .secrets(
                Secret::builder()
                    .name("DB_PASSWORD")
                    .value_from("arn:aws:ssm:us-east-1:123456789012:parameter/db")
                    .build()
                    .unwrap(),
            )
            .build();
        let out = self
            .runtime
            .block_on(self.ecs.register_task_definition().family(family).container_definitions(definition).send())
            .unwrap();
        out.task_definition().unwrap().task_definition_arn().unwrap().to_string()
    }

    pub fn service(&self, cluster: &str, name: &str, task_definition: &str, desired: i32) {
        self.runtime
            .block_on(
                self.ecs
                    .create_service()
                    .cluster(cluster)
                    .service_name(name)
                    .task_definition(task_definition)
                    .desired_count(desired)
                    .send(),
            )
            .unwrap();
    }

    /// A service rolling out within 50%..200%, with the circuit breaker set.
    pub fn rolling_service(&self, cluster: &str, name: &str, task_definition: &str, desired: i32, breaker: bool) {
        use aws_sdk_ecs::types::{DeploymentCircuitBreaker, DeploymentConfiguration};
        let config = DeploymentConfiguration::builder()
            .minimum_healthy_percent(50)
            .maximum_percent(200)
            .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(breaker).rollback(breaker).build())
            .build();
        self.runtime
            .block_on(
                self.ecs
                    .create_service()
                    .cluster(cluster)
                    .service_name(name)
                    .task_definition(task_definition)
                    .desired_count(desired)
                    .deployment_configuration(config)
                    .send(),
            )
            .unwrap();
        self.wait_stable(cluster, name);
    }

    /// A service (desired 1) created with this deploymentConfiguration, once stable.
    pub fn configured_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: &str,
        config: aws_sdk_ecs::types::DeploymentConfiguration,
    ) {
        self.strategy_service(cluster, name, task_definition, 1, config);
    }

    /// A service of `desired` tasks created with this deploymentConfiguration
    /// (a strategy, bake time, alarms, hooks, ...), once stable.
    pub fn strategy_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: &str,
        desired: i32,
        deployment_configuration: aws_sdk_ecs::types::DeploymentConfiguration,
    ) {
        self.runtime
            .block_on(
                self.ecs
                    .create_service()
                    .cluster(cluster)
                    .service_name(name)
                    .task_definition(task_definition)
                    .desired_count(desired)
                    .deployment_configuration(deployment_configuration)
                    .send(),
            )
            .unwrap();
        self.wait_stable(cluster, name);
    }

    /// A service whose deployments another controller makes: `controller` is
    /// `"CODE_DEPLOY"` or `"EXTERNAL"`. The emulator runs no tasks for it (its
    /// deployments are CodeDeploy's or task sets), so it is not waited on.
    pub fn controller_service(&self, cluster: &str, name: &str, task_definition: &str, desired: i32, controller: &str) {
        use aws_sdk_ecs::types::{DeploymentController, DeploymentControllerType};
        let controller =
            DeploymentController::builder().r#type(DeploymentControllerType::from(controller)).build().unwrap();
        self.runtime
            .block_on(
                self.ecs
                    .create_service()
                    .cluster(cluster)
                    .service_name(name)
                    .task_definition(task_definition)
                    .desired_count(desired)
                    .deployment_controller(controller)
                    .send(),
            )
            .unwrap();
    }

    /// The service's deploymentConfiguration as DescribeServices gives it.
    pub fn deployment_configuration(&self, cluster: &str, name: &str) -> aws_sdk_ecs::types::DeploymentConfiguration {
        let out = self.runtime.block_on(self.ecs.describe_services().cluster(cluster).services(name).send()).unwrap();
        out.services()[0].deployment_configuration().unwrap().clone()
    }

    /// Waits until the service's first deployment has COMPLETED, as a live
    /// service would have before anyone deploys to it.
    pub fn wait_stable(&self, cluster: &str, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let out =
                self.runtime.block_on(self.ecs.describe_services().cluster(cluster).services(name).send()).unwrap();
            let completed = out.services()[0]
                .deployments()
                .iter()
                .any(|d| d.status() == Some("PRIMARY") && d.rollout_state().map(|s| s.as_str()) == Some("COMPLETED"));
            if completed {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{name} did not become stable");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The service's task definition, as `family:revision`.
    pub fn live_revision(&self, cluster: &str, name: &str) -> String {
        let out = self.runtime.block_on(self.ecs.describe_services().cluster(cluster).services(name).send()).unwrap();
        let arn = out.services()[0].task_definition().unwrap().to_string();
        arn.rsplit('/').next().unwrap().to_string()
    }

    /// ACTIVE revisions of a family, as numbers, ascending.
    pub fn active_revisions(&self, family: &str) -> Vec<i64> {
        let out = self
            .runtime
            .block_on(
                self.ecs
                    .list_task_definitions()
                    .family_prefix(family)
                    .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
                    .send(),
            )
            .unwrap();
        let mut revisions: Vec<i64> =
            out.task_definition_arns().iter().filter_map(|a| a.rsplit(':').next()?.parse().ok()).collect();
        revisions.sort();
        revisions
    }

    /// (scale-in, scale-out, scheduled) suspended.
    pub fn suspended(&self, cluster: &str, service: &str) -> (bool, bool, bool) {
        let out = self
            .runtime
            .block_on(
                self.scaling
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_ids(format!("service/{cluster}/{service}"))
                    .send(),
            )
            .unwrap();
        let state = out.scalable_targets()[0].suspended_state().unwrap();
        (
            state.dynamic_scaling_in_suspended().unwrap_or(false),
            state.dynamic_scaling_out_suspended().unwrap_or(false),
            state.scheduled_scaling_suspended().unwrap_or(false),
        )
    }

    pub fn scalable_target(&self, cluster: &str, service: &str, scale_in_suspended: bool) {
        self.runtime
            .block_on(
                self.scaling
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .resource_id(format!("service/{cluster}/{service}"))
                    .min_capacity(1)
                    .max_capacity(10)
                    .suspended_state(
                        SuspendedState::builder()
                            .dynamic_scaling_in_suspended(scale_in_suspended)
                            .dynamic_scaling_out_suspended(false)
                            .scheduled_scaling_suspended(false)
                            .build(),
                    )
                    .send(),
            )
            .unwrap();
    }
}

impl Account {
    pub fn tag_task_definition(&self, arn: &str, key: &str, value: &str) {
        self.runtime
            .block_on(
                self.ecs
                    .tag_resource()
                    .resource_arn(arn)
                    .tags(aws_sdk_ecs::types::Tag::builder().key(key).value(value).build())
                    .send(),
            )
            .unwrap();
    }

    /// The tags of a task definition, as `key=value`.
    pub fn task_definition_tags(&self, reference: &str) -> Vec<String> {
        let out = self
            .runtime
            .block_on(
                self.ecs
                    .describe_task_definition()
                    .task_definition(reference)
                    .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                    .send(),
            )
            .unwrap();
        out.tags().iter().map(|t| format!("{}={}", t.key().unwrap_or(""), t.value().unwrap_or(""))).collect()
    }
}

/// A CloudWatch alarm `name` (state INSUFFICIENT_DATA), put into moto through
/// `endpoint` (the emulator, the fault proxy or moto) with CloudWatch's query
/// API, without a CloudWatch SDK: a deployment's `alarms.alarmNames` can name it.
pub fn put_alarm(endpoint: &str, name: &str) {
    cloudwatch(
        endpoint,
        &[
            ("Action", "PutMetricAlarm"),
            ("Version", "2010-08-01"),
            ("AlarmName", name),
            ("MetricName", "HTTPCode_Target_5XX_Count"),
            ("Namespace", "AWS/ApplicationELB"),
            ("Statistic", "Sum"),
            ("Period", "60"),
            ("EvaluationPeriods", "1"),
            ("Threshold", "1"),
            ("ComparisonOperator", "GreaterThanThreshold"),
        ],
    );
}

/// Sets alarm `name` to `state` (`"ALARM"`, `"OK"` or `"INSUFFICIENT_DATA"`)
/// with CloudWatch's SetAlarmState: moto never evaluates metrics, so this is
/// how a test makes a deployment alarm fire.
pub fn set_alarm_state(endpoint: &str, name: &str, state: &str) {
    cloudwatch(
        endpoint,
        &[
            ("Action", "SetAlarmState"),
            ("Version", "2010-08-01"),
            ("AlarmName", name),
            ("StateValue", state),
            ("StateReason", "set by a test"),
        ],
    );
}

/// One CloudWatch query-protocol call (form-encoded POST, SigV4-shaped
/// Authorization naming the `monitoring` service, which moto routes on);
/// panics unless it answers 2xx. Returns the XML body.
pub fn cloudwatch(endpoint: &str, form: &[(&str, &str)]) -> String {
    let port: u16 =
        endpoint.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).expect("http://127.0.0.1:PORT");
    let body = form.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&");
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        ),
    ];
    super::moto::http_with(port, "POST", "/", &headers, &body)
        .unwrap_or_else(|e| panic!("CloudWatch {}: {e}", form.first().map(|f| f.1).unwrap_or("")))
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
