using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Access;

/// <summary>
/// Raw-HTTP helpers for the access tests: users, grants and tokens made through the API as the admin, a
/// cookie-keeping "browser" that signs in through the form, audit queries, and a socket client for paths
/// that <see cref="Uri"/> would normalise before sending.
/// </summary>
public static partial class AccessTestKit
{
    public const string Password = "correct horse battery staple";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A client that does not follow redirects, optionally with a bearer token.</summary>
    public static HttpClient Http(SlipwayTestServer server, string? token = null)
    {
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30),
        };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static HttpClient Admin(SlipwayTestServer server) => Http(server, SlipwayTestServer.AdminToken);

    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
    public static StringContent Body(object value) => Body(JsonSerializer.Serialize(value, Json));

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    public static async Task<HttpResponseMessage> Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
            Assert.Fail($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode}: " +
                        await response.Content.ReadAsStringAsync());
        return response;
    }

    /// <summary>Creates a user as the admin (with <see cref="Password"/> unless told otherwise).</summary>
    public static async Task<UserDto> CreateUserAsync(SlipwayTestServer server, string username, string? password = Password, string? displayName = null)
    {
        using var admin = Admin(server);
        var response = await Expect(await admin.PostAsync("/api/v1/users",
            Body(new CreateUserRequest(username, displayName, null, password))), HttpStatusCode.Created);
        return await ReadAsync<UserDto>(response);
    }

    public static async Task GrantAsync(SlipwayTestServer server, string username, string role, string? project = null)
    {
        using var admin = Admin(server);
        await Expect(await admin.PostAsync($"/api/v1/users/{username}/grants", Body(new GrantRequest(role, project, null))), HttpStatusCode.OK);
    }

    public static async Task CreateRoleAsync(SlipwayTestServer server, string name, params string[] actions)
    {
        using var admin = Admin(server);
        await Expect(await admin.PostAsync("/api/v1/roles", Body(new CreateRoleRequest(name, "test role", actions))), HttpStatusCode.Created);
    }

    /// <summary>Signs in as the user through POST /api/v1/auth/login and returns the issued API token.</summary>
    public static async Task<TokenCreatedDto> LoginAsync(SlipwayTestServer server, string username, string password = Password, string? tokenName = null)
    {
        using var http = Http(server);
        var response = await Expect(await http.PostAsync("/api/v1/auth/login",
            Body(new LoginRequest(username, password, tokenName ?? "t-" + Guid.NewGuid().ToString("N")[..8], null))), HttpStatusCode.OK);
        return await ReadAsync<TokenCreatedDto>(response);
    }

    /// <summary>A new user holding <paramref name="role"/> (globally or on one project); returns their API token.</summary>
    public static async Task<string> UserWithRoleAsync(SlipwayTestServer server, string username, string? role, string? project = null)
    {
        await CreateUserAsync(server, username);
        if (role is not null) await GrantAsync(server, username, role, project);
        return (await LoginAsync(server, username)).Token;
    }

    /// <summary>Audit entries (newest first) matching the query string, read as the admin.</summary>
    public static async Task<IReadOnlyList<AuditEntryDto>> AuditAsync(SlipwayTestServer server, string query)
    {
        using var admin = Admin(server);
        var response = await Expect(await admin.GetAsync("/api/v1/audit?limit=1000&" + query), HttpStatusCode.OK);
        return await ReadAsync<List<AuditEntryDto>>(response);
    }

    public static string RequestId(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Request-Id", out var values) ? values.Single() : throw new InvalidOperationException("no X-Request-Id");

    /// <summary>Writes a git repository with a one-job pipeline and creates the project from it (its first run stays queued without agents).</summary>
    public static async Task<long> CreateProjectAsync(SlipwayTestServer server, string name, List<IDisposable> keepAlive)
    {
        var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        keepAlive.Add(repo);
        return await server.CreateProjectAsync(name, repo.Path);
    }

    /// <summary>A browser: keeps cookies, does not follow redirects, signs in through the HTML form.</summary>
    public sealed class Browser : IDisposable
    {
        private readonly Uri _base;

        public Browser(SlipwayTestServer server)
        {
            _base = new Uri(server.Url);
            Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = Cookies })
            {
                BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30),
            };
        }

        public CookieContainer Cookies { get; } = new();
        public HttpClient Http { get; }
        public string? Session => Cookies.GetCookies(_base)["slipway_session"]?.Value;

        /// <summary>GET /login: stores the anti-forgery cookie and returns the form's request token.</summary>
        /// <summary>
        /// The anti-forgery token a page would give this browser now. Tokens are bound to the signed-in user, so
        /// once signed in it comes from a page of the session (the layout's sign-out form), as a browser's would.
        /// </summary>
        public async Task<string> AntiforgeryTokenAsync()
        {
            var path = Session is null ? "/login" : "/";
            var page = await (await Expect(await Http.GetAsync(path), HttpStatusCode.OK)).Content.ReadAsStringAsync();
            var match = TokenField().Match(page);
            Assert.True(match.Success, $"{path} has no anti-forgery field");
            return WebUtility.HtmlDecode(match.Groups[1].Value);
        }

        public async Task<HttpResponseMessage> SignInAsync(string username, string password, bool withAntiforgery = true) =>
            await PostFormAsync(new() { ["username"] = username, ["password"] = password, ["returnUrl"] = "/" }, withAntiforgery);

        public async Task<HttpResponseMessage> SignInWithTokenAsync(string token) =>
            await PostFormAsync(new() { ["token"] = token, ["returnUrl"] = "/" }, true);

        private async Task<HttpResponseMessage> PostFormAsync(Dictionary<string, string> fields, bool withAntiforgery)
        {
            var antiforgery = await AntiforgeryTokenAsync();
            if (withAntiforgery) fields["__RequestVerificationToken"] = antiforgery;
            return await Http.PostAsync("/login", new FormUrlEncodedContent(fields));
        }

        /// <summary>A state-changing call the way the UI's script makes it: JSON plus the anti-forgery header.</summary>
        public async Task<HttpResponseMessage> PostJsonAsync(string path, object body, bool withAntiforgeryHeader)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Body(body) };
            if (withAntiforgeryHeader) request.Headers.Add("X-Slipway-Antiforgery", await AntiforgeryTokenAsync());
            return await Http.SendAsync(request);
        }

        public void Dispose() => Http.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    /// <summary>
    /// Sends one request over a plain socket with the request target exactly as given (no dot-segment removal or
    /// unescaping by <see cref="Uri"/>) and returns the status code and the body.
    /// </summary>
    public static async Task<(int Status, string Body)> RawAsync(SlipwayTestServer server, string method, string target, string? token, string? json = null)
    {
        var uri = new Uri(server.Url);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        await using var stream = tcp.GetStream();
        var body = json is null ? [] : Encoding.UTF8.GetBytes(json);
        var head = new StringBuilder()
            .Append($"{method} {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n")
            .Append(token is null ? "" : $"Authorization: Bearer {token}\r\n")
            .Append(json is null ? "Content-Length: 0\r\n" : $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n")
            .Append("\r\n").ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var statusLine = answer.Split("\r\n", 2)[0];
        var status = int.Parse(statusLine.Split(' ')[1]);
        var split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0) return (status, "");
        var headers = answer[..split];
        var content = answer[(split + 4)..];
        return (status, headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunk(content) : content);
    }

    private static string Dechunk(string chunked)
    {
        var text = new StringBuilder();
        var at = 0;
        while (at < chunked.Length)
        {
            var end = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..end].Split(';')[0], 16);
            if (size == 0) break;
            // Sizes count bytes; the bodies here are ASCII JSON or escape everything else.
            text.Append(chunked, end + 2, size);
            at = end + 2 + size + 2;
        }
        return text.ToString();
    }
}
