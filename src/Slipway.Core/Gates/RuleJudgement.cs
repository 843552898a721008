namespace Slipway.Core.Gates;

public enum GateOutcome { Passed, Failed, Inconclusive }

/// <summary>
/// The verdict on one rule. <see cref="Measured"/> and <see cref="Baseline"/> are in the unit the
/// detail shows (the rule's, else the reported value's) and are filled whenever they are known.
/// </summary>
public sealed record RuleJudgement(GateOutcome Outcome, string Detail, double? Measured, double? Baseline);
