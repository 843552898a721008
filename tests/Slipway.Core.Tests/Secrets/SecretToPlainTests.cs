using Slipway.Core.Secrets;

namespace Slipway.Core.Tests.Secrets;

/// <summary>A secret is never turned into a plain variable by setting a value; every other change of kind is allowed.</summary>
public sealed class SecretToPlainTests
{
    [Theory]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]
    public void OnlySecretToPlain_IsRefused_NamingTheVariable(bool wasSecret, bool secret, bool refused)
    {
        var refusal = VariableProtection.SecretToPlain("DEPLOY_KEY", wasSecret, secret);
        Assert.Equal(refused, refusal is not null);
        if (refused) Assert.StartsWith("'DEPLOY_KEY' is a secret: set its new value as a secret, or delete it first", refusal);
    }
}
