using Slipway.Server.Runs;

namespace Slipway.Server.Tests.Dispatch;

/// <summary>The line of polls waiting for a pool: a signal wakes a few, never loses a wake-up with a poll that left.</summary>
public sealed class WorkSignalLineTests
{
    private const string Key = "pool:build";

    private static List<PlaceInLine> Line(WorkSignal signal, int count) => Enumerable.Range(0, count).Select(_ => signal.JoinLine(Key)).ToList();

    private static IEnumerable<int> Woken(List<PlaceInLine> places) => places.Select((p, i) => (p, i)).Where(x => x.p.Task.IsCompleted).Select(x => x.i);

    [Fact]
    public void ASignal_WakesTheFirstFewInLine_AndWakeInLineTheNext()
    {
        var signal = new WorkSignal();
        var places = Line(signal, 10);

        signal.Signal(Key);
        Assert.Equal(Enumerable.Range(0, WorkSignal.FirstWoken), Woken(places));

        signal.WakeInLine(Key, 2);
        Assert.Equal(Enumerable.Range(0, WorkSignal.FirstWoken + 2), Woken(places));
    }

    [Fact]
    public void AWokenPlaceLeftUnused_PassesItsWakeUpOn_AUsedOneDoesNot()
    {
        var signal = new WorkSignal();
        var places = Line(signal, 3);
        signal.WakeInLine(Key, 1);

        places[0].Dispose(); // woken, never looked: the poll went away
        Assert.Equal([0, 1], Woken(places));

        places[1].Use();
        places[1].Dispose();
        places[1].Dispose(); // twice changes nothing
        Assert.Equal([0, 1], Woken(places));
    }

    [Fact]
    public void HandOns_ReachOnlyThePollsThatWereWaitingWhenTheWakeUpBegan_SoTheChainEnds()
    {
        var signal = new WorkSignal();
        var waiting = Line(signal, 3);
        signal.WakeInLine(Key, 1);
        var later = Line(signal, 2); // joined after the wake-up began (as a poll that found nothing joins again)

        waiting[0].HandOn();
        waiting[1].HandOn();
        waiting[2].HandOn(); // the polls that were waiting have all looked: nobody else is woken
        later[0].Dispose(); // nor by a later poll leaving unwoken

        Assert.Equal([0, 1, 2], Woken(waiting));
        Assert.Empty(Woken(later));
        Assert.True(signal.AnyInLine(Key));
    }

    [Fact]
    public void APlaceThatLeftBeforeItsTurn_IsSkipped()
    {
        var signal = new WorkSignal();
        var places = Line(signal, 3);

        places[0].Dispose(); // timed out and left, not woken
        signal.WakeInLine(Key, 1);

        Assert.Equal([1], Woken(places));
    }

    [Fact]
    public void SignalAll_WakesEveryoneInLine_OtherKeysAreUntouched()
    {
        var signal = new WorkSignal();
        var places = Line(signal, 10);
        var other = signal.JoinLine("pool:deploy");

        signal.Signal("pool:deploy");
        Assert.Empty(Woken(places));
        Assert.True(other.Task.IsCompleted);

        signal.SignalAllHere();
        Assert.Equal(Enumerable.Range(0, 10), Woken(places));
    }
}
