using System.Net;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Deployments;
using Slipway.Testing;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Gates;

/// <summary>
/// Quality gates end to end: staging's verify step measures the release with a real load generator (autocannon) or
/// reports a metrics file, and production's gates (server-side) decide whether a promotion may go: failed refuses,
/// inconclusive holds for an approver's reasoned decision, passed lets it through; sign-offs by people.
/// </summary>
public sealed class QualityGateTests
{
    /// <summary>A build and a release per commit on main; each test adds the deploy section whose verify step measures.</summary>
    private const string BuildAndRelease = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo built
        release:
          branch: main
          version: "1.0.{run}"

        """;

    private static string LoadPipeline(string url) => BuildAndRelease + $"""
        deploy:
          run: echo "deploying $SLIPWAY_RELEASE to $SLIPWAY_ENVIRONMENT"
          verify: mkdir -p perf && autocannon --json --duration 2 --connections 20 {url} > perf/summary.json
          metrics: perf/summary.json
          rollback: manual
        """;

    [Fact]
    public async Task ThresholdGate_ASlowAppFailsIt_ANormalOnePasses_AndAMetricNotReportedFails()
    {
        using var app = new LoopbackHttp();
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, pipeline: LoadPipeline(app.Url));
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("verify", "staging"));
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p99 < 250 ms"));
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "errors rate < 1 %"));
        // The same gate twice is refused: it would be judged and listed twice, with nothing to tell the two apart.
        var twice = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "errors rate < 1 %")));
        Assert.Equal(HttpStatusCode.Conflict, twice.Status);
        Assert.Contains("'production' already has this gate", twice.Message);
        // However it is spelled.
        var respelled = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration  p(99)<250.0ms")));
        Assert.Contains("http_req_duration p99 < 250 ms on staging", respelled.Message);
        Assert.Equal(3, (await kit.Admin.ListGatesAsync("shop", "production")).Count);

        // Normal: measured on staging by autocannon, every gate passes, the promotion goes.
        var fast = await kit.ReleaseAsync("fast");
        var staged = await kit.OnStagingAsync(fast);
        var metrics = await kit.Admin.GetRunMetricsAsync(staged.RunId!.Value);
        Assert.Contains(metrics, m => (m.Job, m.Metric, m.Stat, m.Format) == ("verify", "http_req_duration", "p99", "autocannon"));
        Assert.True(metrics.Single(m => (m.Metric, m.Stat) == ("requests", "count")).Value >= 30);
        var ready = await kit.Admin.GetGateChecklistAsync("shop", fast, "production");
        Assert.Equal("passed", ready.Overall);
        Assert.Equal(3, ready.Gates.Count(g => g.Outcome == "passed"));
        var promoted = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(promoted.Number)).State);
        var evidence = await kit.Admin.GetDeploymentGatesAsync("shop", promoted.Number);
        Assert.Contains(evidence, g => g.Gate == "http_req_duration p99 < 250 ms on staging" && g.Outcome == "passed" && g.Measured < 250);

        // Slow: the same test measures p99 above the threshold; the promotion is refused naming the gate.
        app.Delay = TimeSpan.FromMilliseconds(400);
        var slow = await kit.ReleaseAsync("slow", ("SLOW", "1"));
        await kit.OnStagingAsync(slow);
        var refused = (await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict)).Message;
        Assert.Contains("gates not met", refused);
        Assert.Contains("http_req_duration p99 < 250 ms on staging", refused);
        Assert.DoesNotContain("errors rate", refused);

        // A rule on a metric the file does not have fails (k6 lets it pass silently).
        app.Delay = TimeSpan.Zero;
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "checks rate >= 99 %"));
        var third = await kit.ReleaseAsync("fast again", ("SLOW", "0"));
        await kit.OnStagingAsync(third);
        var checklist = await kit.Admin.GetGateChecklistAsync("shop", third, "production");
        var missing = checklist.Gates.Single(g => g.Gate.StartsWith("checks rate"));
        Assert.Equal(("failed", true), (missing.Outcome, missing.Detail.Contains("was not reported")));
        Assert.Equal("failed", checklist.Overall);
    }

    internal const string FilePipeline = BuildAndRelease + """
        deploy:
          run: echo "deploying $SLIPWAY_RELEASE"
          verify: cp perf.json measured.json
          metrics: measured.json
          rollback: manual
        """;

    internal static string Perf(double p95, int count = 500) =>
        "{\"metrics\": {\"http_req_duration\": {\"p95\": " + p95.ToString(System.Globalization.CultureInfo.InvariantCulture) +
        ", \"unit\": \"ms\"}, \"requests\": {\"count\": " + count + "}}}";

    [Fact]
    public async Task RelativeRule_IsInconclusiveWithoutABaseline_HoldsUntilAnApproverDecides_ThenCatchesA30PercentRegression()
    {
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, pipeline: FilePipeline);
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 <= 1.10 x baseline"));

        // Nothing on production yet: no baseline, so the rule cannot be judged; the deployment waits for a person.
        var first = await kit.ReleaseAsync("first", ("perf.json", Perf(200)));
        await kit.OnStagingAsync(first);
        var held = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("awaiting_approval", held.State);
        Assert.Equal("inconclusive", Assert.Single(await kit.Admin.GetDeploymentGatesAsync("shop", held.Number)).Outcome);
        await Refused(() => kit.Bob.ApproveDeploymentAsync("shop", held.Number, null), HttpStatusCode.BadRequest); // a decision needs a reason
        await Refused(() => kit.Dev.ApproveDeploymentAsync("shop", held.Number, "looks fine"), HttpStatusCode.Forbidden);
        await kit.Bob.ApproveDeploymentAsync("shop", held.Number, "first release on production: nothing to compare with");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(held.Number)).State);

        // 30 % slower than the release on production (measured on staging): refused, naming the regression.
        var slower = await kit.ReleaseAsync("slower", ("perf.json", Perf(260)));
        await kit.OnStagingAsync(slower);
        var refused = (await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict)).Message;
        Assert.Contains("http_req_duration p95 <= 1.1", refused);
        Assert.Contains("+30", refused);
        Assert.Contains($"baseline: {first}", refused);

        // 5 % slower is within the rule: it goes without a hold.
        var close = await kit.ReleaseAsync("close", ("perf.json", Perf(210)));
        await kit.OnStagingAsync(close);
        var passed = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("queued", passed.State);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(passed.Number)).State);
    }

    [Fact]
    public async Task MetricsFile_Empty_Malformed_Or_TooLarge_FailsTheVerifyJob_WithTheFileAndTheProblem()
    {
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0,
            pipeline: FilePipeline.Replace("cp perf.json measured.json", "cp perf.json measured.json; if [ -s BIG ]; then head -c 52428800 /dev/zero > measured.json; fi"));
        foreach (var (content, big, expected) in new[]
                 {
                     ("", false, "measured.json: is empty"),
                     ("{\"metrics\": {\"x\": {\"p95\": 1,}}}", false, "not valid JSON"),
                     ("{}", true, "larger than the 1 MiB"),
                 })
        {
            var version = await kit.ReleaseAsync("metrics " + expected, ("perf.json", content), ("BIG", big ? "1" : ""));
            var deployment = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging"))
                .FirstOrDefault(d => d.Release == version && d.State is "failed" or "succeeded"), version);
            Assert.Equal("failed", deployment.State);
            var run = await kit.Admin.GetRunAsync(deployment.RunId!.Value);
            var verify = run.Stages.SelectMany(s => s.Jobs).Single(j => j.Name == "verify");
            Assert.Contains(expected, verify.FailureReason);
            Assert.StartsWith("metrics: measured.json", verify.FailureReason);
        }
    }

    [Fact]
    public async Task SignOff_NeedsTheRoleTheGateAsks_ARejectionBlocksPromotion_AndAnAcceptanceLetsItGo()
    {
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, pipeline: FilePipeline);
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("signoff", "staging", SignOffKind: "uat", Role: "analyst"));
        var version = await kit.ReleaseAsync("first", ("perf.json", Perf(100)));
        await kit.OnStagingAsync(version);

        var pending = await kit.Admin.GetGateChecklistAsync("shop", version, "production");
        Assert.Contains("pending", Assert.Single(pending.Gates).Detail);
        await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict);
        // A developer holds no release.signoff; an admin does, but not the analyst role the gate asks for.
        await Refused(() => kit.Dev.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", true)), HttpStatusCode.Forbidden);
        var notAnalyst = (await Refused(() => kit.Admin.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", true)), HttpStatusCode.Forbidden)).Message;
        Assert.Contains("analyst", notAnalyst);
        await Refused(() => kit.Ann.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", false)), HttpStatusCode.BadRequest); // a rejection needs notes

        // Rejected: promotion is blocked and says why.
        await kit.Ann.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", false, "the basket total is wrong for two items"));
        var blocked = (await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict)).Message;
        Assert.Contains("rejected by ann", blocked);
        Assert.Contains("basket total", blocked);

        // Accepted after a second look (by another analyst): the gate passes and the promotion goes.
        var signed = await kit.Bob.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", true, "showcase with the customer went well"));
        Assert.Equal(("accept", "bob", "uat"), (signed.Verdict, signed.SignedBy, signed.Kind));

        // Evidence: a screenshot kept with the sign-off (by digest), served back as it was; only its signer adds any, and
        // only images, PDFs or text, read from the bytes.
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];
        var shot = await kit.Bob.AttachToSignOffAsync("shop", version, signed.Id, "basket.png", png);
        Assert.Equal(("image/png", 12L), (shot.ContentType, shot.Size));
        Assert.Equal(png, await kit.Ann.GetSignOffAttachmentAsync(shot.Url));
        await Refused(() => kit.Ann.AttachToSignOffAsync("shop", version, signed.Id, "mine.png", png), HttpStatusCode.Forbidden);
        var zip = (await Refused(() => kit.Bob.AttachToSignOffAsync("shop", version, signed.Id, "shot.png", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0xFF]), HttpStatusCode.BadRequest)).Message;
        Assert.Contains("is not one of PNG, JPEG or WebP images", zip);
        var big = new byte[6 * 1024 * 1024];
        png.CopyTo(big, 0);
        await Refused(() => kit.Bob.AttachToSignOffAsync("shop", version, signed.Id, "big.png", big), HttpStatusCode.BadRequest);
        Assert.Equal(["basket.png"], (await kit.Admin.ListSignOffsAsync("shop", version)).Single(s => s.Id == signed.Id).Attachments!.Select(a => a.Name));
        Assert.Equal("passed", (await kit.Admin.GetGateChecklistAsync("shop", version, "production")).Overall);
        var promoted = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(promoted.Number)).State);
        Assert.Equal(2, (await kit.Admin.ListSignOffsAsync("shop", version)).Count);
        // The evidence export says why production was allowed to change: the gate that passed and the sign-offs before it.
        var csv = await kit.Admin.ExportDeploymentsAsync("shop", "production", null, null, "csv");
        Assert.Contains("passed uat sign-off by analyst on staging: accepted by bob on staging", csv);
        Assert.Contains("uat on staging reject by ann", csv);
        Assert.Contains("uat on staging accept by bob", csv);
        var audit = await kit.Admin.ListAuditAsync();
        Assert.Contains(audit, e => e.Action == "release.signoff" && e.Outcome == "succeeded" && e.Detail!.Contains("accepted"));
        Assert.Contains(audit, e => e.Action == "gate.manage" && e.Detail!.Contains("uat sign-off by analyst on staging"));
    }
}
