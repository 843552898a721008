using System.Globalization;

namespace Slipway.Server.Database;

/// <summary>
/// Row ids written into SQL as a literal list, "(1, 2, 3)": Dapper expands "IN @list" on SQLite but hands Npgsql an
/// array (which needs "= ANY(...)"), so one text for both dialects has the numbers in it. Only for ids (numbers), never
/// for text from a request.
/// </summary>
public static class SqlIds
{
    /// <summary>The ids as "(1, 2, 3)"; "(NULL)" for none, which matches no row.</summary>
    public static string List(IEnumerable<long> ids)
    {
        var text = string.Join(", ", ids.Distinct().Select(id => id.ToString(CultureInfo.InvariantCulture)));
        return text.Length == 0 ? "(NULL)" : $"({text})";
    }
}
