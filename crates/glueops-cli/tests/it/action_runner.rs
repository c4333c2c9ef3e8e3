//! The composite action in `action.yml`, run the way the GitHub runner runs one: each `run`
//! step as `bash --noprofile --norc -eo pipefail` with its `env` (expressions evaluated),
//! `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and `GITHUB_PATH` fresh per step and read back
//! after it (outputs into `steps.<id>.outputs`, PATH additions into the next steps' PATH,
//! the summaries concatenated), `GITHUB_ACTION_PATH` at the repository root and
//! `GITHUB_WORKSPACE` at the checkout; a failing step ends the action. `actions/cache`
//! restores from and saves to a folder standing in for GitHub's cache service. Any other
//! `uses` step, or an expression this runner does not know, fails the test: the action can
//! only do what this runner proves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// What one run of the action left.
#[derive(Debug)]
pub(crate) struct ActionRun {
    /// The action's outputs (`outputs.*.value`, evaluated).
    pub(crate) outputs: BTreeMap<String, String>,
    /// The job summary the steps wrote.
    pub(crate) summary: String,
    /// The steps' stdout (workflow commands such as annotations are read from it).
    pub(crate) stdout: String,
    /// Their stderr.
    pub(crate) stderr: String,
    /// The exit code of the step that failed, 0 when none did.
    pub(crate) code: i32,
    /// Whether the cache step restored the install folder.
    pub(crate) cache_hit: bool,
}

impl ActionRun {
    /// The workflow commands `::level title=...::message` of one level, decoded.
    pub(crate) fn annotations(&self, level: &str) -> Vec<(String, String)> {
        let prefix = format!("::{level} title=");
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter_map(|l| l.split_once("::"))
            .map(|(title, message)| (unescape(title), unescape(message)))
            .collect()
    }
}

fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// One machine's runner: its tool cache, temp folder and the stand-in for the cache service.
pub(crate) struct Runner {
    root: PathBuf,
    action: Value,
    /// `GITHUB_WORKSPACE`.
    pub(crate) workspace: PathBuf,
}

impl Runner {
    /// A runner under `root` with the checkout at `workspace`.
    pub(crate) fn new(root: &Path, workspace: &Path) -> Runner {
        let text = std::fs::read_to_string(action_path().join("action.yml")).unwrap();
        let action: Value = glueops_yaml::deserialize(&text, glueops_yaml::Limits::Config).unwrap();
        assert_eq!(action["runs"]["using"], "composite", "a composite action");
        for dir in ["tool-cache", "cache-service"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        Runner {
            root: root.to_path_buf(),
            action,
            workspace: workspace.to_path_buf(),
        }
    }

    /// Saves `binary` in the cache service under the key the action computes, as an earlier
    /// job on another machine would have (the next run restores it instead of building).
    pub(crate) fn seed_cache(&self, binary: &Path) {
        let key_step = self.steps()[0].clone();
        let mut ctx = Context::new(self, &BTreeMap::new());
        let step = self.run_step(&key_step, &mut ctx);
        assert_eq!(step, 0, "the key step failed: {}", ctx.stderr);
        let outputs = &ctx.steps["key"];
        let saved = self.root.join("cache-service").join(&outputs["key"]);
        std::fs::create_dir_all(&saved).unwrap();
        std::fs::copy(binary, saved.join("glueops")).unwrap();
    }

    fn steps(&self) -> Vec<Value> {
        self.action["runs"]["steps"].as_array().unwrap().clone()
    }

    /// Runs the action with `inputs` (the rest take their defaults) and `env` added to the
    /// job's environment.
    pub(crate) fn run(&self, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> ActionRun {
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let declared = self.action["inputs"].as_object().unwrap();
        for (name, spec) in declared {
            if let Some(default) = spec.get("default").and_then(Value::as_str) {
                given.insert(name.clone(), default.to_string());
            }
        }
        for (name, value) in inputs {
            assert!(
                declared.contains_key(*name),
                "action.yml has no input `{name}`"
            );
            given.insert((*name).to_string(), (*value).to_string());
        }
        for (name, spec) in declared {
            if spec["required"] == Value::Bool(true) {
                assert!(
                    given.contains_key(name),
                    "required input `{name}` not given"
                );
            }
        }
        let mut ctx = Context::new(self, &given);
        ctx.env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut code = 0;
        let mut saves = Vec::new();
        for step in self.steps() {
            if let Some(uses) = step.get("uses").and_then(Value::as_str) {
                assert!(
                    uses.starts_with("actions/cache@"),
                    "this runner does not know `{uses}`"
                );
                let path = PathBuf::from(ctx.eval(&step["with"]["path"]));
                let key = ctx.eval(&step["with"]["key"]);
                let saved = self.root.join("cache-service").join(&key);
                if saved.is_dir() {
                    copy_dir(&saved, &path);
                    ctx.cache_hit = true;
                } else {
                    saves.push((path, saved));
                }
                continue;
            }
            code = self.run_step(&step, &mut ctx);
            if code != 0 {
                break;
            }
        }
        // The cache's post step: a job that succeeded saves what it missed.
        if code == 0 {
            for (path, saved) in saves {
                if path.is_dir() {
                    copy_dir(&path, &saved);
                }
            }
        }
        let outputs = self.action["outputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, spec)| (name.clone(), ctx.eval(&spec["value"])))
            .collect();
        ActionRun {
            outputs,
            summary: ctx.summary,
            stdout: ctx.stdout,
            stderr: ctx.stderr,
            code,
            cache_hit: ctx.cache_hit,
        }
    }

    fn run_step(&self, step: &Value, ctx: &mut Context) -> i32 {
        assert_eq!(step["shell"], "bash", "every run step names its shell");
        let n = ctx.step_count;
        ctx.step_count += 1;
        let files = self.root.join(format!("step-{}-{n}", ctx.run_id));
        std::fs::create_dir_all(&files).unwrap();
        let script = files.join("script.sh");
        std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
        let (output, summary, path) = (
            files.join("output"),
            files.join("summary"),
            files.join("path"),
        );
        for f in [&output, &summary, &path] {
            std::fs::write(f, "").unwrap();
        }
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&self.workspace)
            .env_clear()
            .envs(&ctx.env)
            .env("PATH", ctx.path())
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", &path);
        if let Some(env) = step.get("env").and_then(Value::as_object) {
            for (k, v) in env {
                let value = ctx.eval(v);
                cmd.env(k, value);
            }
        }
        let out = cmd.output().unwrap();
        ctx.stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        ctx.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        ctx.summary
            .push_str(&std::fs::read_to_string(&summary).unwrap());
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            ctx.path_added.insert(0, line.to_string());
        }
        if let Some(id) = step.get("id").and_then(Value::as_str) {
            let text = std::fs::read_to_string(&output).unwrap();
            ctx.steps.insert(id.to_string(), parse_outputs(&text));
        }
        out.status.code().unwrap_or(-1)
    }
}

/// A run's state: inputs, step outputs, environment, what the steps printed.
struct Context {
    run_id: u64,
    step_count: usize,
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    env: BTreeMap<String, String>,
    path_added: Vec<String>,
    summary: String,
    stdout: String,
    stderr: String,
    cache_hit: bool,
}

impl Context {
    fn new(runner: &Runner, inputs: &BTreeMap<String, String>) -> Context {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let run_id = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = runner.root.join(format!("runner-temp-{run_id}"));
        std::fs::create_dir_all(&temp).unwrap();
        let mut env = BTreeMap::new();
        for key in ["HOME", "USER", "LANG", "CARGO_HOME", "RUSTUP_HOME"] {
            if let Ok(v) = std::env::var(key) {
                env.insert(key.to_string(), v);
            }
        }
        let vars = [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", "X64".to_string()),
            ("RUNNER_TEMP", temp.display().to_string()),
            (
                "RUNNER_TOOL_CACHE",
                runner.root.join("tool-cache").display().to_string(),
            ),
            ("GITHUB_ACTION_PATH", action_path().display().to_string()),
            ("GITHUB_WORKSPACE", runner.workspace.display().to_string()),
        ];
        env.extend(vars.map(|(k, v)| (k.to_string(), v)));
        Context {
            run_id,
            step_count: 0,
            inputs: inputs.clone(),
            steps: BTreeMap::new(),
            env,
            path_added: Vec::new(),
            summary: String::new(),
            stdout: String::new(),
            stderr: String::new(),
            cache_hit: false,
        }
    }

    fn path(&self) -> String {
        let mut parts = self.path_added.clone();
        parts.push(std::env::var("PATH").unwrap_or_default());
        parts.join(":")
    }

    /// A string with `${{ expr }}` parts replaced; only the contexts the action uses.
    fn eval(&self, value: &Value) -> String {
        let text = value
            .as_str()
            .unwrap_or_else(|| panic!("not a string: {value}"));
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").unwrap() + start;
            out.push_str(&self.lookup(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["github", "action_path"] => self.env["GITHUB_ACTION_PATH"].clone(),
            ["github", "workspace"] => self.env["GITHUB_WORKSPACE"].clone(),
            ["runner", "temp"] => self.env["RUNNER_TEMP"].clone(),
            ["runner", "os"] => self.env["RUNNER_OS"].clone(),
            _ => panic!("this runner does not evaluate `${{{{ {expr} }}}}`"),
        }
    }
}

/// `name=value` lines and `name<<DELIMITER` blocks, as the runner reads `GITHUB_OUTPUT`.
pub(crate) fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<").filter(|_| !line.contains('=')) {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// The repository root: the action's own checkout.
pub(crate) fn action_path() -> PathBuf {
    glueops_testkit::workspace()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
