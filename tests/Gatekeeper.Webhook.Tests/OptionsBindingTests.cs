using System.Reflection;
using System.Runtime.CompilerServices;
using Gatekeeper.Controller;
using Gatekeeper.Webhook;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The options records are bound by the configuration binding source generator in the Native AOT binary, which
/// leaves init-only properties at their defaults without a warning (`serve --tls-cert-file` was ignored that way).
/// </summary>
public sealed class OptionsBindingTests
{
    public static TheoryData<Type> BoundOptions() => new() { typeof(WebhookOptions), typeof(ControllerOptions) };

    [Theory]
    [MemberData(nameof(BoundOptions))]
    public void Every_bound_option_has_a_setter_the_generated_binder_can_use(Type options)
    {
        var initOnly = options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { } setter && setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)))
            .Select(p => p.Name)
            .ToList();

        Assert.True(initOnly.Count == 0, $"{options.Name} has init-only properties the generated binder skips: {string.Join(", ", initOnly)}");
    }
}
