namespace Egress.Policy.Matching;

/// <summary>
/// Aho–Corasick automaton compiled to a dense DFA over the host-name alphabet, so that testing a host
/// against any number of keyword tokens costs one table step per character and allocates nothing.
/// </summary>
/// <remarks>
/// Layout for speed: states are numbered breadth-first (the shallow states a non-matching host keeps
/// returning to share cache lines), accepting states are numbered last (so "did we match" is a compare
/// with a constant, not a load), and transitions hold the next state's row offset (no multiply per step).
/// </remarks>
internal sealed class KeywordAutomaton
{
    // a-z, 0-9, '-', '_', '.', and one class for everything else.
    private const int AlphabetSize = 40;
    private const int OtherClass = 39;

    // Row offset of each transition's target state: delta[row + class] = next state's row.
    private readonly int[] _delta;

    // Keyword index reported by accepting state (firstAccepting + i) is _accepting[i].
    private readonly int[] _accepting;
    private readonly int _firstAcceptingRow;

    public KeywordAutomaton(IReadOnlyList<string> keywords)
    {
        // 1. Trie.
        var children = new List<int[]> { NewRow() };
        var output = new List<int> { -1 };
        for (int k = 0; k < keywords.Count; k++)
        {
            int state = 0;
            foreach (char ch in keywords[k])
            {
                int c = Classify(ch);
                if (children[state][c] < 0)
                {
                    children.Add(NewRow());
                    output.Add(-1);
                    children[state][c] = children.Count - 1;
                }

                state = children[state][c];
            }

            if (output[state] < 0)
            {
                output[state] = k;
            }
        }

        // 2. Failure links by breadth-first search, folded straight into a full transition table.
        int n = children.Count;
        var delta = new int[n * AlphabetSize];
        var outputs = output.ToArray();
        var fail = new int[n];
        var bfs = new List<int>(n) { 0 };
        var queue = new Queue<int>();
        for (int c = 0; c < AlphabetSize; c++)
        {
            int next = children[0][c];
            delta[c] = next < 0 ? 0 : next;
            if (next > 0)
            {
                fail[next] = 0;
                queue.Enqueue(next);
            }
        }

        while (queue.Count > 0)
        {
            int s = queue.Dequeue();
            bfs.Add(s);
            // A state also reports what its failure state reports; the lowest token index wins.
            int inherited = outputs[fail[s]];
            if (inherited >= 0 && (outputs[s] < 0 || inherited < outputs[s]))
            {
                outputs[s] = inherited;
            }

            for (int c = 0; c < AlphabetSize; c++)
            {
                int next = children[s][c];
                if (next < 0)
                {
                    delta[(s * AlphabetSize) + c] = delta[(fail[s] * AlphabetSize) + c];
                }
                else
                {
                    delta[(s * AlphabetSize) + c] = next;
                    fail[next] = delta[(fail[s] * AlphabetSize) + c];
                    queue.Enqueue(next);
                }
            }
        }

        // 3. Renumber: non-accepting states breadth-first (the root stays 0), then accepting states.
        var renumber = new int[n];
        int nextId = 0;
        foreach (int s in bfs)
        {
            if (outputs[s] < 0)
            {
                renumber[s] = nextId++;
            }
        }

        int firstAccepting = nextId;
        _accepting = new int[n - firstAccepting];
        foreach (int s in bfs)
        {
            if (outputs[s] >= 0)
            {
                _accepting[nextId - firstAccepting] = outputs[s];
                renumber[s] = nextId++;
            }
        }

        _delta = new int[n * AlphabetSize];
        for (int s = 0; s < n; s++)
        {
            int row = renumber[s] * AlphabetSize;
            for (int c = 0; c < AlphabetSize; c++)
            {
                _delta[row + c] = renumber[delta[(s * AlphabetSize) + c]] * AlphabetSize;
            }
        }

        _firstAcceptingRow = firstAccepting * AlphabetSize;
        StateCount = n;
    }

    /// <summary>Number of DFA states (for diagnostics and benchmarks).</summary>
    public int StateCount { get; }

    /// <summary>Index of a keyword contained in <paramref name="text"/>, or -1.</summary>
    public int FindFirst(ReadOnlySpan<char> text)
    {
        var delta = _delta;
        int firstAccepting = _firstAcceptingRow;
        var classes = CharClasses;
        int row = 0;
        foreach (char ch in text)
        {
            row = delta[row + (ch < 128 ? classes[ch] : OtherClass)];
            if (row >= firstAccepting)
            {
                return _accepting[(row - firstAccepting) / AlphabetSize];
            }
        }

        return -1;
    }

    // Classify() for the ASCII range, as a table.
    private static ReadOnlySpan<byte> CharClasses =>
    [
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, // 0x00
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, // 0x10
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 36, 38, 39, // 0x20: '-' '.'
        26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 39, 39, 39, 39, 39, 39, // 0x30: digits
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, // 0x40
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 37, // 0x50: '_'
        39, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,           // 0x60: a-o
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 39, 39, 39, 39, 39, // 0x70: p-z
    ];

    private static int[] NewRow()
    {
        var row = new int[AlphabetSize];
        Array.Fill(row, -1);
        return row;
    }

    private static int Classify(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= '0' and <= '9' => 26 + (c - '0'),
        '-' => 36,
        '_' => 37,
        '.' => 38,
        _ => OtherClass,
    };
}
