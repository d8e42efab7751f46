using Google.Rpc;
using Grpc.Core;

namespace SeedDaemon.Testing;

public static class RpcAssert
{
    /// <summary>Asserts the call fails with <paramref name="code"/>; returns the exception.</summary>
    public static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == error.StatusCode, $"expected {code}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    /// <summary>Asserts INVALID_ARGUMENT with a google.rpc.BadRequest naming <paramref name="field"/>.</summary>
    public static async Task<RpcException> InvalidField(string field, Func<Task> call)
    {
        var error = await FailsWith(StatusCode.InvalidArgument, call);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
        return error;
    }
}
