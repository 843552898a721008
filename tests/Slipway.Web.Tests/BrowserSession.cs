using Microsoft.Playwright;
using Slipway.Testing;

namespace Slipway.Web.Tests;

/// <summary>
/// A fresh browser context (own cookies and storage) and page pointed at one test server, in a headless
/// Debian chromium driven by Playwright's bundled driver (never <c>playwright install</c>). Records console
/// errors, page errors and dialogs so tests can assert that none happened.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--no-proxy-server",
    ];

    static BrowserSession()
    {
        // Live updates arrive about once a second and a run takes a few: allow more than the 5 s default.
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    private BrowserSession(IBrowser browser, IBrowserContext context, IPage page)
    {
        Browser = browser;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (ConsoleErrors) ConsoleErrors.Add($"{message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => { lock (PageErrors) PageErrors.Add(error); };
        page.Dialog += async (_, dialog) =>
        {
            // The pages ask "are you sure?" before destructive posts (data-confirm): a user says yes. Any other dialog is
            // something a page never opens by itself (an injected alert), recorded for the escaping tests.
            if (dialog.Type == "confirm")
            {
                lock (Confirms) Confirms.Add(dialog.Message);
                await dialog.AcceptAsync();
                return;
            }
            lock (Dialogs) Dialogs.Add($"{dialog.Type}: {dialog.Message}");
            await dialog.DismissAsync();
        };
    }

    public IBrowser Browser { get; }
    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public List<string> ConsoleErrors { get; } = [];
    public List<string> PageErrors { get; } = [];
    public List<string> Dialogs { get; } = [];
    /// <summary>The confirmations the pages asked for (and that were accepted), in order.</summary>
    public List<string> Confirms { get; } = [];

    // One chromium for the whole test run (launching one costs seconds of CPU on a small machine);
    // each test gets its own context, so cookies and storage are never shared between tests.
    private static readonly SemaphoreSlim LaunchLock = new(1, 1);
    private static (IPlaywright Playwright, IBrowser Browser)? _shared;

    private static async Task<IBrowser> SharedBrowserAsync()
    {
        await LaunchLock.WaitAsync();
        try
        {
            if (_shared is { Browser.IsConnected: true } shared) return shared.Browser;
            _shared?.Playwright.Dispose();
            var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            try
            {
                var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = ChromiumPath,
                    Headless = true,
                    Args = ChromiumArgs,
                    Timeout = 30_000,
                });
                _shared = (playwright, browser);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseShared(playwright, browser);
                return browser;
            }
            catch
            {
                playwright.Dispose();
                throw;
            }
        }
        finally
        {
            LaunchLock.Release();
        }
    }

    private static void CloseShared(IPlaywright playwright, IBrowser browser)
    {
        try { browser.CloseAsync().Wait(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        playwright.Dispose();
    }

    public static async Task<BrowserSession> StartAsync(string baseUrl)
    {
        var browser = await SharedBrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        try
        {
            context.SetDefaultTimeout(20_000);
            context.SetDefaultNavigationTimeout(20_000);
            var page = await context.NewPageAsync();
            return new BrowserSession(browser, context, page);
        }
        catch
        {
            await context.CloseAsync();
            throw;
        }
    }

    /// <summary>Signs in through the login form, as a person would, and waits to leave the login page.</summary>
    public async Task SignInAsync(string token = SlipwayTestServer.AdminToken)
    {
        await Page.GotoAsync("/login");
        await Page.GetByLabel("API token").FillAsync(token);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Continue with token" }).ClickAsync();
        // Waiting for the new URL to be committed is enough to know the sign-in worked; the page's own load is awaited by
        // whatever the test does next (waiting for its "load" event too made this flaky on a saturated machine).
        await Page.WaitForURLAsync(url => !new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.Ordinal),
            new() { WaitUntil = WaitUntilState.Commit });
    }

    public async ValueTask DisposeAsync()
    {
        try { await Context.CloseAsync(); } catch (PlaywrightException) { }
    }
}
