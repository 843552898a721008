using Slipway.Client;

namespace Slipway.Testing;

/// <summary>Test helpers over the typed client, for servers in the test process and for servers run as a child process alike.</summary>
public static class ClientExtensions
{
    /// <summary>The whole log of a job, read through the paging API.</summary>
    public static async Task<string> WholeLogAsync(this SlipwayClient client, long runId, string job)
    {
        var text = new System.Text.StringBuilder();
        long offset = 0;
        while (true)
        {
            var page = await client.GetLogAsync(runId, job, offset, 1024 * 1024);
            text.Append(page.Text);
            if (page.NextOffset == offset) return text.ToString();
            offset = page.NextOffset;
        }
    }
}
