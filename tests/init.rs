//! `botanu::init()`: the global install path, in its own test binary (it sets the process-wide
//! subscriber). Configured from a YAML file found through `BOTANU_CONFIG_FILE`, exporting to a real
//! collector; a second `init` is a clear error, not a panic.
#[path = "support/collector.rs"]
mod collector;

use std::time::Duration;

use botanu::prelude::*;
use collector::Collector;

#[test]
fn init_configures_from_a_file_installs_globally_and_refuses_a_second_install() {
    let Some(collector) = Collector::start() else { return };
    let dir = std::env::temp_dir().join(format!("botanu-init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("botanu.yaml");
    let yaml = format!(
        "service:\n  name: init-test\n  environment: ${{INIT_TEST_ENV:-staging}}\notlp:\n  endpoint: {}\nexport:\n  delay_ms: 50\n",
        collector.http_endpoint()
    );
    std::fs::write(&file, yaml).expect("write config");
    // This binary has one test, so setting the environment cannot race another test.
    std::env::set_var("BOTANU_CONFIG_FILE", &file);

    let guard = botanu::init().expect("init");
    run_span!(workflow = "init-check").in_scope(|| {
        llm_span!(provider = "openai", model = "gpt-4").set_tokens(Tokens {
            input: 3,
            output: 4,
            ..Default::default()
        });
    });
    let second = botanu::init().expect_err("a second global install");
    assert!(second.to_string().contains("Builder::build"), "actionable: {second}");
    guard.shutdown().expect("shutdown");

    let arrived = collector.wait_for(
        |out| {
            out.contains("Name           : botanu.run/init-check")
                && out.contains("-> service.name: Str(init-test)")
                && out.contains("-> botanu.environment: Str(staging)")
        },
        Duration::from_secs(20),
    );
    assert!(arrived, "{}", collector.output());
    let _ = std::fs::remove_dir_all(&dir);
}
