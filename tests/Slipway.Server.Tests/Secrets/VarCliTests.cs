using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Secrets;

/// <summary><c>slipway var</c> as a user types it, against a real server.</summary>
public sealed class VarCliTests
{
    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, string? stdin, params string[] args) =>
        SlipwayProcess.RunAsync(args, new Dictionary<string, string>
        {
            ["SLIPWAY_SERVER"] = server.Url,
            ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "cli-config"),
        }, stdin);

    [Fact]
    public async Task VarSetListDelete_ThroughTheCli_NeverPrintsTheSecret()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var secret = await SlipwayAsync(server, "npm-t0ken-value\n", "var", "set", "shop", "NPM_TOKEN", "--secret", "--value-stdin");
        var plain = await SlipwayAsync(server, null, "var", "set", "shop", "REGION", "--value", "eu-west");
        var list = await SlipwayAsync(server, null, "var", "list", "shop");
        var json = await SlipwayAsync(server, null, "var", "list", "shop", "--json");
        var bad = await SlipwayAsync(server, "abc", "var", "set", "shop", "SHORT", "--secret", "--value-stdin");
        var neither = await SlipwayAsync(server, null, "var", "set", "shop", "X");
        var both = await SlipwayAsync(server, null, "var", "set", "shop", "X", "--value", "x", "--protected", "--unprotected");

        Assert.True(secret.Exit == 0, secret.Err);
        Assert.True(plain.Exit == 0, plain.Err);
        Assert.Contains("set secret NPM_TOKEN of project shop, protected (only runs of protected branches and deployments get it)", secret.Out);
        Assert.Contains("set variable REGION of project shop, unprotected", plain.Out);
        Assert.Contains("(secret)", list.Out);
        Assert.Contains("eu-west", list.Out);
        Assert.Matches(@"NPM_TOKEN\s+\(secret\)\s+protected", list.Out);
        Assert.DoesNotContain("npm-t0ken", list.Out + json.Out);
        var listed = JsonSerializer.Deserialize<List<VariableDto>>(json.Out, SlipwayClient.Json)!;
        Assert.Equal(["NPM_TOKEN", "REGION"], listed.Select(v => v.Name));
        Assert.Equal([true, false], listed.Select(v => v.Protected));
        Assert.Equal(1, bad.Exit);
        Assert.Contains("shorter than 4 characters", bad.Err);
        Assert.Equal(2, neither.Exit);
        Assert.Equal(2, both.Exit);

        // Either flag can be set explicitly; a changed value keeps the flag it had.
        var unprotect = await SlipwayAsync(server, "npm-t0ken-value\n", "var", "set", "shop", "NPM_TOKEN", "--secret", "--unprotected", "--value-stdin");
        var protect = await SlipwayAsync(server, null, "var", "set", "shop", "REGION", "--value", "eu-north", "--protected");
        var again = await SlipwayAsync(server, null, "var", "set", "shop", "REGION", "--value", "eu-south");
        Assert.Contains("set secret NPM_TOKEN of project shop, unprotected", unprotect.Out);
        Assert.Contains("set variable REGION of project shop, protected", protect.Out);
        Assert.Contains("set variable REGION of project shop, protected", again.Out);

        // The trailing newline of piped input is not part of the value: the job sees exactly the token.
        using var check = Pipelines.Repo(Pipelines.OneJob("test \"$NPM_TOKEN\" = npm-t0ken-value && echo exact", "        secrets: [NPM_TOKEN]"));
        await server.Client.CreateProjectAsync("check", check.Path, "main");
        await SlipwayAsync(server, "npm-t0ken-value\n", "var", "set", "check", "NPM_TOKEN", "--secret", "--value-stdin");
        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("check", "main", null)).Id);
        Assert.Equal("succeeded", run.Status);

        var delete = await SlipwayAsync(server, null, "var", "delete", "shop", "REGION");
        Assert.True(delete.Exit == 0, delete.Err);
        Assert.Single(await server.Client.ListVariablesAsync("shop"));
    }
}
