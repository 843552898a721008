using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Slipway.Server.Web;

/// <summary>Reading the pages' forms the same way on every page (checkboxes, choices, numbers, word lists, text areas), and the
/// few values every page writes the same way.</summary>
public static partial class WebUi
{
    /// <summary>Whether a checkbox was ticked (a browser posts "on").</summary>
    internal static bool Checked(IFormCollection form, string name) => form[name].ToString() is "on" or "true";

    /// <summary>A yes/no choice that may be left as it is: "true", "false", or empty (null: keep what is set).</summary>
    internal static bool? Choice(IFormCollection form, string name, string what) => Optional(form, name) switch
    {
        null => null,
        "true" => true,
        "false" => false,
        var other => throw new ArgumentException($"'{other}' is not a choice for {what}"),
    };

    /// <summary>A whole number typed in a form, or null when the field is empty.</summary>
    internal static int? Number(string? value, string what) => value is null ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ArgumentException($"'{what}' must be a whole number, not '{value}'");

    /// <summary>
    /// The moment of the setting a form was opened on (hidden field "seen", Unix milliseconds; 0 for a setting never made),
    /// for a save that must not overwrite a change made after the page was shown. Null when the form did not carry one.
    /// </summary>
    internal static DateTimeOffset? SeenAt(IFormCollection form) =>
        long.TryParse(Optional(form, "seen"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms >= 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>A list typed in one field, separated by spaces, commas or line breaks.</summary>
    internal static string[] Words(IFormCollection form, string name) =>
        (Field(form, name) ?? "").Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A value typed in a textarea, with the browser's CRLF line breaks back to LF (a PEM key pasted must arrive as it was).</summary>
    internal static string? TextareaValue(IFormCollection form, string name) => Field(form, name)?.Replace("\r\n", "\n");

    /// <summary>A state's wire name as people read it: "awaiting_approval" is shown "awaiting approval".</summary>
    public static string StateText(string state) => state.Replace('_', ' ');

    /// <summary>A moment as the pages show it: UTC, to the second (the page says "UTC" where it matters).</summary>
    public static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");

    /// <summary>This server as the browser reached it (the request's scheme and host), for addresses a page tells the user to use.</summary>
    internal static string ServerAddress(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";

    /// <summary>
    /// A form whose success is a page of its own rather than a redirect: the answer carries something shown only once (a
    /// secret), which must never be put in an address. A refusal goes <paramref name="back"/> with its reason, as <see cref="Act(HttpContext, string, Func{Task{string}})"/> does.
    /// </summary>
    internal static async Task<IResult> AnswerOnce(HttpContext context, string back, Func<IFormCollection, Task<IResult>> action)
    {
        var form = await ReadFormAsync(context);
        try
        {
            return await action(form);
        }
        catch (Exception e) when (ErrorHandling.Classify(e) is { } error)
        {
            return Results.Redirect(Flash(context, back, "error", error.Message));
        }
    }
}
