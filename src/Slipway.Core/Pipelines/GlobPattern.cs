namespace Slipway.Core.Pipelines;

/// <summary>A compiled glob (see <see cref="Glob"/>). Immutable once compiled, so safe to share.</summary>
internal sealed class GlobPattern
{
    private readonly Segment[] _segments;

    private GlobPattern(Segment[] segments) => _segments = segments;

    public static bool TryCompile(string pattern, out GlobPattern? compiled, out string? error)
    {
        compiled = null;
        if (string.IsNullOrEmpty(pattern))
        {
            error = "empty pattern";
            return false;
        }
        var parts = pattern.Split('/');
        var segments = new Segment[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i] == "**")
            {
                segments[i] = Segment.Globstar;
                continue;
            }
            var tokens = CompileSegment(parts[i], out error);
            if (tokens is null) return false;
            segments[i] = new Segment(tokens);
        }
        error = null;
        compiled = new GlobPattern(segments);
        return true;
    }

    public bool IsMatch(string path)
    {
        var parts = path.Split('/');
        int n = _segments.Length, m = parts.Length;
        // can[i, j]: pattern segments i.. match path segments j..; filled from the end (O(n*m)).
        var can = new bool[n + 1, m + 1];
        can[n, m] = true;
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m; j >= 0; j--)
            {
                can[i, j] = _segments[i].IsGlobstar
                    ? can[i + 1, j] || (j < m && can[i, j + 1])
                    : j < m && can[i + 1, j + 1] && _segments[i].Matches(parts[j]);
            }
        }
        return can[0, 0];
    }

    private static Token[]? CompileSegment(string text, out string? error)
    {
        var tokens = new List<Token>();
        error = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '*':
                    if (tokens.Count == 0 || tokens[^1].Kind != TokenKind.Star) tokens.Add(Token.Star);
                    break;
                case '?':
                    tokens.Add(Token.Any);
                    break;
                case '\\':
                    if (i + 1 >= text.Length)
                    {
                        error = "pattern ends with an unfinished escape '\\'";
                        return null;
                    }
                    tokens.Add(Token.Literal(text[++i]));
                    break;
                case '[':
                    var cls = CompileClass(text, ref i, out error);
                    if (cls is null) return null;
                    tokens.Add(cls);
                    break;
                case ']':
                    error = "unmatched ']'";
                    return null;
                default:
                    tokens.Add(Token.Literal(c));
                    break;
            }
        }
        return tokens.ToArray();
    }

    /// <summary>Reads <c>[...]</c> starting at <paramref name="i"/> (the '['); leaves i on the ']'.</summary>
    private static Token? CompileClass(string text, ref int i, out string? error)
    {
        var start = i;
        var j = i + 1;
        var negated = j < text.Length && (text[j] == '!' || text[j] == '^');
        if (negated) j++;
        var ranges = new List<(char Lo, char Hi)>();
        while (j < text.Length && text[j] != ']')
        {
            var lo = text[j];
            if (lo == '\\' && j + 1 < text.Length) lo = text[++j];
            if (j + 2 < text.Length && text[j + 1] == '-' && text[j + 2] != ']')
            {
                var hi = text[j + 2];
                if (hi < lo)
                {
                    error = $"invalid range '{lo}-{hi}' in character class";
                    return null;
                }
                ranges.Add((lo, hi));
                j += 3;
            }
            else
            {
                ranges.Add((lo, lo));
                j++;
            }
        }
        if (j >= text.Length)
        {
            error = $"unclosed '[' at position {start + 1}";
            return null;
        }
        if (ranges.Count == 0)
        {
            error = "empty character class '[]'";
            return null;
        }
        i = j;
        error = null;
        return Token.Class(ranges.ToArray(), negated);
    }

    private enum TokenKind { Literal, Any, Star, Class }

    private sealed class Token
    {
        public static readonly Token Star = new(TokenKind.Star);
        public static readonly Token Any = new(TokenKind.Any);

        private Token(TokenKind kind) => Kind = kind;

        public TokenKind Kind { get; }
        private char _char;
        private (char Lo, char Hi)[] _ranges = [];
        private bool _negated;

        public static Token Literal(char c) => new(TokenKind.Literal) { _char = c };

        public static Token Class((char, char)[] ranges, bool negated) =>
            new(TokenKind.Class) { _ranges = ranges, _negated = negated };

        public bool Matches(char c) => Kind switch
        {
            TokenKind.Literal => c == _char,
            TokenKind.Any => true,
            TokenKind.Class => c != '/' && _ranges.Any(r => c >= r.Lo && c <= r.Hi) != _negated,
            _ => false,
        };
    }

    private sealed class Segment
    {
        public static readonly Segment Globstar = new([]) { IsGlobstar = true };

        private readonly Token[] _tokens;

        public Segment(Token[] tokens) => _tokens = tokens;

        public bool IsGlobstar { get; private init; }

        /// <summary>Classic single-star backtracking: linear in practice, O(n*m) worst case.</summary>
        public bool Matches(string s)
        {
            int p = 0, i = 0, starP = -1, starI = 0;
            while (i < s.Length)
            {
                if (p < _tokens.Length && _tokens[p].Kind == TokenKind.Star)
                {
                    starP = p++;
                    starI = i;
                }
                else if (p < _tokens.Length && _tokens[p].Matches(s[i]))
                {
                    p++;
                    i++;
                }
                else if (starP >= 0)
                {
                    p = starP + 1;
                    i = ++starI;
                }
                else
                {
                    return false;
                }
            }
            while (p < _tokens.Length && _tokens[p].Kind == TokenKind.Star) p++;
            return p == _tokens.Length;
        }
    }
}
