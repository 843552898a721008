using Microsoft.Playwright;

namespace Slipway.Web.Tests;

/// <summary>
/// Form posts forced from inside a signed-in page (fetch with the session cookie), as a user bypassing the UI would send
/// them. A redirect (the forms' answer when accepted) is not followed and reads as status 0.
/// </summary>
internal static class PageForms
{
    public sealed class FetchResult
    {
        public int Status { get; set; }
        public string Body { get; set; } = "";
    }

    /// <summary>
    /// POSTs <paramref name="fields"/> to <paramref name="path"/> as a form; with <paramref name="withToken"/> the
    /// anti-forgery token is taken from the page's sign-out form, so only the access rule can refuse it.
    /// </summary>
    public static Task<FetchResult> PostAsync(IPage page, string path, bool withToken, IReadOnlyDictionary<string, string>? fields = null) =>
        PostAsync(page, path, withToken, fields, "manual");

    /// <summary>As <see cref="PostAsync(IPage, string, bool, IReadOnlyDictionary{string, string}?)"/>, following the redirect: the page it lands on (where a form's outcome is shown).</summary>
    public static Task<FetchResult> PostAndFollowAsync(IPage page, string path, IReadOnlyDictionary<string, string>? fields = null) =>
        PostAsync(page, path, true, fields, "follow");

    private static Task<FetchResult> PostAsync(IPage page, string path, bool withToken, IReadOnlyDictionary<string, string>? fields, string redirect) =>
        page.EvaluateAsync<FetchResult>("""
            async ([path, withToken, fields, redirect]) => {
              const body = new URLSearchParams(fields);
              if (withToken) body.set('__RequestVerificationToken',
                document.querySelector('form.signout input[name="__RequestVerificationToken"]').value);
              const r = await fetch(path, { method: 'POST', body, redirect });
              return { status: r.status, body: await r.text() };
            }
            """, new object[] { path, withToken, fields ?? new Dictionary<string, string>(), redirect });
}
