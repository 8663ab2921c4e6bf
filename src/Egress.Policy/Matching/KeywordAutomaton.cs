namespace Egress.Policy.Matching;

/// <summary>
/// Aho–Corasick automaton compiled to a dense DFA over the host-name alphabet, so that testing a host
/// against any number of keyword tokens costs one table step per character and allocates nothing.
/// </summary>
internal sealed class KeywordAutomaton
{
    // a-z, 0-9, '-', '_', '.', and one class for everything else.
    private const int AlphabetSize = 40;
    private const int OtherClass = 39;

    private readonly int[] _delta;
    private readonly int[] _output;

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
        _delta = new int[n * AlphabetSize];
        _output = output.ToArray();
        var fail = new int[n];
        var queue = new Queue<int>();
        for (int c = 0; c < AlphabetSize; c++)
        {
            int next = children[0][c];
            _delta[c] = next < 0 ? 0 : next;
            if (next > 0)
            {
                fail[next] = 0;
                queue.Enqueue(next);
            }
        }

        while (queue.Count > 0)
        {
            int s = queue.Dequeue();
            // A state also reports what its failure state reports; the lowest token index wins.
            int inherited = _output[fail[s]];
            if (inherited >= 0 && (_output[s] < 0 || inherited < _output[s]))
            {
                _output[s] = inherited;
            }

            for (int c = 0; c < AlphabetSize; c++)
            {
                int next = children[s][c];
                if (next < 0)
                {
                    _delta[(s * AlphabetSize) + c] = _delta[(fail[s] * AlphabetSize) + c];
                }
                else
                {
                    _delta[(s * AlphabetSize) + c] = next;
                    fail[next] = _delta[(fail[s] * AlphabetSize) + c];
                    queue.Enqueue(next);
                }
            }
        }
    }

    /// <summary>Number of DFA states (for diagnostics and benchmarks).</summary>
    public int StateCount => _output.Length;

    /// <summary>Index of a keyword contained in <paramref name="text"/>, or -1.</summary>
    public int FindFirst(ReadOnlySpan<char> text)
    {
        var delta = _delta;
        var output = _output;
        int state = 0;
        foreach (char ch in text)
        {
            state = delta[(state * AlphabetSize) + Classify(ch)];
            if (output[state] >= 0)
            {
                return output[state];
            }
        }

        return -1;
    }

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
