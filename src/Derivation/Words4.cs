using System.Runtime.CompilerServices;

namespace SeedDaemon.Derivation;

/// <summary>Four 32-bit words held inline (a SeedSequence pool or generated state).</summary>
[InlineArray(4)]
public struct Words4
{
    private uint _element0;
}
