using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Web.Tests;

/// <summary>Plain HTTP calls to the server's API with a bearer token (the setup a test does as admin before using the browser).</summary>
internal sealed class TestApi(string baseUrl, string? token = SlipwayTestServer.AdminToken) : IDisposable
{
    public const string Password = "correct horse battery staple";

    private readonly HttpClient _http = Create(baseUrl, token);

    public static TestApi Admin(SlipwayTestServer server) => new(server.Url);

    private static HttpClient Create(string baseUrl, string? token)
    {
        var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public HttpClient Http => _http;

    /// <summary>Creates a user with <see cref="Password"/> and, optionally, a global grant of <paramref name="role"/>.</summary>
    public async Task CreateUserAsync(string username, string? displayName, string? role, string? project = null)
    {
        var created = await _http.PostAsJsonAsync("/api/v1/users", new CreateUserRequest(username, displayName, null, Password));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        if (role is null) return;
        var granted = await _http.PostAsJsonAsync($"/api/v1/users/{username}/grants", new GrantRequest(role, project, null));
        Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
    }

    public async Task<UserDto?> FindUserAsync(string username)
    {
        var response = await _http.GetAsync($"/api/v1/users/{Uri.EscapeDataString(username)}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<UserDto>();
    }

    /// <summary>Signs in through the username and password form, as a person would.</summary>
    public static async Task SignInWithPasswordAsync(IPage page, string username, string password = Password)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(url => !new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.Ordinal));
    }

    public void Dispose() => _http.Dispose();
}
