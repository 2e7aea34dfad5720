namespace Gatekeeper.Core.Schema;

/// <summary>Orders objects so that each comes after what it depends on, keeping the given order where it may.</summary>
internal static class DependencyOrder
{
    /// <summary>
    /// Kahn's algorithm, taking the earliest ready item each time, so the result is deterministic and close to the input
    /// order. Dependencies on objects outside <paramref name="items"/> are ignored (they exist already, or are created in
    /// another phase). Items in a cycle are appended in input order and returned in <paramref name="cyclic"/>.
    /// </summary>
    public static List<T> Sort<T>(IReadOnlyList<T> items, Func<T, ObjectKey> key, Func<T, IEnumerable<ObjectKey>> dependsOn, out List<T> cyclic)
    {
        var index = new Dictionary<ObjectKey, int>();
        for (var i = 0; i < items.Count; i++)
        {
            index.TryAdd(key(items[i]), i);
        }

        var waitingOn = new int[items.Count];
        var readers = new List<int>[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            readers[i] = [];
        }

        for (var i = 0; i < items.Count; i++)
        {
            foreach (var dependency in dependsOn(items[i]).Distinct())
            {
                if (index.TryGetValue(dependency, out var j) && j != i)
                {
                    waitingOn[i]++;
                    readers[j].Add(i);
                }
            }
        }

        var ready = new SortedSet<int>(Enumerable.Range(0, items.Count).Where(i => waitingOn[i] == 0));
        var result = new List<T>(items.Count);
        var done = new bool[items.Count];
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            done[next] = true;
            result.Add(items[next]);
            foreach (var reader in readers[next])
            {
                if (--waitingOn[reader] == 0)
                {
                    ready.Add(reader);
                }
            }
        }

        cyclic = [];
        for (var i = 0; i < items.Count; i++)
        {
            if (!done[i])
            {
                cyclic.Add(items[i]);
                result.Add(items[i]);
            }
        }

        return result;
    }
}
