using Npgsql;

namespace Slipway.Bench.Scale;

/// <summary>
/// Rows for one table, written with PostgreSQL's binary COPY: an order of magnitude faster than INSERTs, which is what
/// keeps seeding 100 000 runs under a few minutes on 2 cores. Values are typed by their CLR type (long → bigint,
/// int → integer, string → text, bool → boolean, byte[] → bytea), so a row must use the column's own type.
/// </summary>
public sealed class Copy(string table, params string[] columns)
{
    private readonly List<object?[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params object?[] values)
    {
        if (values.Length != columns.Length)
            throw new ArgumentException($"{table}: {values.Length} values for {columns.Length} columns");
        _rows.Add(values);
    }

    public async Task WriteAsync(NpgsqlConnection connection)
    {
        if (_rows.Count == 0) return;
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in _rows)
            {
                await writer.StartRowAsync();
                foreach (var value in row) await WriteValueAsync(writer, value);
            }
            await writer.CompleteAsync();
        }
        _rows.Clear();
    }

    private static Task WriteValueAsync(NpgsqlBinaryImporter writer, object? value) => value switch
    {
        null => writer.WriteNullAsync(),
        long l => writer.WriteAsync(l, NpgsqlTypes.NpgsqlDbType.Bigint),
        int i => writer.WriteAsync(i, NpgsqlTypes.NpgsqlDbType.Integer),
        string s => writer.WriteAsync(s, NpgsqlTypes.NpgsqlDbType.Text),
        bool b => writer.WriteAsync(b, NpgsqlTypes.NpgsqlDbType.Boolean),
        double d => writer.WriteAsync(d, NpgsqlTypes.NpgsqlDbType.Double),
        _ => throw new ArgumentException($"no COPY mapping for {value.GetType()}"),
    };
}
