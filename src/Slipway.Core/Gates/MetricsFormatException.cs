namespace Slipway.Core.Gates;

/// <summary>
/// Raised by the format readers for a file that is valid JSON but not usable metrics.
/// It never leaves <see cref="MetricsParser.Parse"/>, which turns it into an error message.
/// </summary>
internal sealed class MetricsFormatException(string message) : Exception(message);
