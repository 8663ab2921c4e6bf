namespace Egress.Isolation.Native;

/// <summary>An anonymous constant set of a rule (<c>{ a, b }</c> in nft): nft's key datatype, key length and elements.</summary>
/// <param name="KeyType">nft's datatype number (<see cref="NfRule.TypeInetService"/>, <see cref="NfRule.TypeInetProtocol"/>), which <c>nft list</c> uses to print the elements.</param>
/// <param name="KeyLength">Octets of each key.</param>
/// <param name="Elements">The keys, in network byte order.</param>
internal sealed record NfSet(uint KeyType, int KeyLength, IReadOnlyList<byte[]> Elements);
