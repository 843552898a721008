using Slipway.Core.Deployments.Rollout;
using Slipway.Core.Pipelines;
using Slipway.Core.Tests.Pipelines;

namespace Slipway.Core.Tests.Deployments.Rollout;

public sealed class RollingDeploySectionTests
{
    private const string Base = "stages:\n  - name: s\n    jobs:\n      - name: j\n        run: \"true\"\n";

    private const string Rolling = """
        deploy:
          targets: web
          rolling: { window: 25%, max_failures: 1 }
          steps:
            - upload: { from: dist/app.tar.gz, to: /srv/app/releases/ }
            - ssh: /srv/app/bin/activate "$SLIPWAY_RELEASE"
            - health: { http: "http://$SLIPWAY_TARGET_HOST:8080/healthz", expect: 200, within: 30s }
          verify: ./smoke-test.sh
          rollback: auto

        """;

    [Fact]
    public void ReadsTheIssuesExample()
    {
        var parsed = PipelineParser.Parse(Base + Rolling);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        var deploy = parsed.Pipeline!.Deploy!;
        Assert.Null(deploy.Run);
        Assert.Equal(("./smoke-test.sh", true), (deploy.Verify, deploy.AutoRollback));
        var rollout = deploy.Rollout!;
        Assert.Equal(("web", new BatchSize(25, true), new BatchSize(1, false)), (rollout.TargetRole, rollout.Window, rollout.MaxFailures));
        Assert.Equal(3, rollout.Steps.Count);
        Assert.Equal(new UploadStep(10, "dist/app.tar.gz", "/srv/app/releases/"), rollout.Steps[0]);
        Assert.Equal(new SshStep(11, "/srv/app/bin/activate \"$SLIPWAY_RELEASE\""), rollout.Steps[1]);
        Assert.Equal(new HealthStep(12, "http://$SLIPWAY_TARGET_HOST:8080/healthz", 200, TimeSpan.FromSeconds(30)), rollout.Steps[2]);
    }

    [Fact]
    public void DefaultsAreOneAtATimeAndNoFailureAllowed()
    {
        var rollout = PipelineParser.Parse(Base + "deploy:\n  targets: web\n  steps:\n    - ssh: ./x\n").Pipeline!.Deploy!.Rollout!;
        Assert.Equal((BatchSize.One, BatchSize.Zero), (rollout.Window, rollout.MaxFailures));
        Assert.Equal(new HealthStep(1, "http://h/", 200, HealthStep.DefaultWithin), PipelineParser.Parse(Base +
            "deploy:\n  targets: web\n  steps:\n    - health: { http: \"http://h/\" }\n").Pipeline!.Deploy!.Rollout!.Steps[0] with { Line = 1 });
    }

    [Theory]
    [InlineData("deploy:\n  run: x\n  targets: web\n  steps:\n    - ssh: y\n", 7, 8, "deploy.run", "both 'run' and 'targets'")]
    [InlineData("deploy:\n  steps:\n    - ssh: y\n", 7, 3, "deploy.targets", "missing required key 'targets'")]
    [InlineData("deploy:\n  targets: web\n", 7, 3, "deploy.steps", "missing required key 'steps'")]
    [InlineData("deploy:\n  targets: web\n  steps: []\n", 8, 10, "deploy.steps", "'steps' is empty")]
    [InlineData("deploy:\n  targets: \"web;rm -rf /\"\n  steps:\n    - ssh: y\n", 7, 12, "deploy.targets", "invalid role 'web;rm -rf /'")]
    [InlineData("deploy:\n  targets: web\n  rolling: { window: 0 }\n  steps:\n    - ssh: y\n", 8, 22, "deploy.rolling.window", "'window' is a count (1 or more)")]
    [InlineData("deploy:\n  targets: web\n  rolling: { window: 150% }\n  steps:\n    - ssh: y\n", 8, 22, "deploy.rolling.window", "percentage")]
    [InlineData("deploy:\n  targets: web\n  rolling: { batch: 2 }\n  steps:\n    - ssh: y\n", 8, 14, "deploy.rolling.batch", "unknown key 'batch'")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - shell: y\n", 9, 7, "deploy.steps[0].shell", "unknown step kind 'shell'")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ansible: { playbook: ../site.yml }\n", 9, 28, "deploy.steps[0].ansible.playbook", "invalid 'playbook' path")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ansible: { playbook: deploy/*.yml }\n", 9, 28, "deploy.steps[0].ansible.playbook", "not a glob")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ansible: { playbook: deploy.sh }\n", 9, 28, "deploy.steps[0].ansible.playbook", "(.yml or .yaml)")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ansible: { book: site.yml }\n", 9, 18, "deploy.steps[0].ansible.book", "unknown key 'book'")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ansible: site.yml\n", 9, 16, "deploy.steps[0].ansible", "'ansible'")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - ssh: y\n      upload: z\n", 9, 7, "deploy.steps[0]", "with 2 keys")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - upload: { from: ../etc/passwd, to: /x }\n", 9, 23, "deploy.steps[0].upload.from", "invalid 'from' path")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - upload: { from: a.tgz, to: relative/ }\n", 9, 34, "deploy.steps[0].upload.to", "absolute path")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - health: { http: \"ftp://x/\" }\n", 9, 23, "deploy.steps[0].health.http", "http:// or https://")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - health: { http: \"http://$HOME/\" }\n", 9, 23, "deploy.steps[0].health.http", "$HOME")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - health: { http: \"http://h/\", within: 2y }\n", 9, 44, "deploy.steps[0].health.within", "'within'")]
    [InlineData("deploy:\n  targets: web\n  steps:\n    - health: { http: \"http://h/\", expect: 42 }\n", 9, 44, "deploy.steps[0].health.expect", "between 100 and 599")]
    [InlineData("deploy:\n  targets: web\n  on_failure: retry\n  steps:\n    - ssh: y\n", 8, 15, "deploy.on_failure", "'on_failure' is stop (a failed target fails the rollout")]
    [InlineData("deploy:\n  run: ./deploy.sh\n  on_failure: pause\n", 8, 15, "deploy.on_failure", "applies to a rolling deployment")]
    public void Errors_HaveLineAndColumn(string deploy, int line, int column, string path, string fragment) =>
        LintAssert.HasError(Base + deploy, line, column, path, fragment);

    [Fact]
    public void AnAnsibleStep_NamesThePlaybookOfTheRelease()
    {
        var rollout = PipelineParser.Parse(Base + "deploy:\n  targets: web\n  steps:\n    - upload: { from: a.tgz, to: /srv/ }\n    - ansible: { playbook: deploy/site.yml }\n")
            .Pipeline!.Deploy!.Rollout!;
        Assert.Equal(new AnsibleStep(10, "deploy/site.yml"), rollout.Steps[1]);
        Assert.Equal("ansible deploy/site.yml", rollout.Steps[1].Describe());
    }

    [Fact]
    public void OnFailurePause_IsReadAndStopIsTheDefault()
    {
        Assert.True(PipelineParser.Parse(Base + "deploy:\n  targets: web\n  on_failure: pause\n  steps:\n    - ssh: y\n").Pipeline!.Deploy!.Rollout!.PauseOnFailure);
        Assert.False(PipelineParser.Parse(Base + "deploy:\n  targets: web\n  on_failure: stop\n  steps:\n    - ssh: y\n").Pipeline!.Deploy!.Rollout!.PauseOnFailure);
        Assert.False(PipelineParser.Parse(Base + "deploy:\n  targets: web\n  steps:\n    - ssh: y\n").Pipeline!.Deploy!.Rollout!.PauseOnFailure);
    }

    [Fact]
    public void TheOldRunFormStaysValid()
    {
        var deploy = PipelineParser.Parse(Base + "deploy:\n  run: ./deploy.sh\n").Pipeline!.Deploy!;
        Assert.Equal(("./deploy.sh", (RolloutDefinition?)null), (deploy.Run, deploy.Rollout));
    }
}
