// Package threeway is the three-way differential of BTF relocation: the Go
// model (harness/recon), the kernel patch's C core (kernel-patch/core, built
// in userspace as btfrecon-ccore by `make ccore`) and the libbpf oracles
// (libbpf 1.5.0 from 6.12's tree and libbpf 1.8.0 from 7.2's, each asked
// separately) get the same distilled base, split and target, and must
// return the same bytes or the same errno. Relocation is where the two
// libbpf versions are meant to agree exactly: the relocated split keeps its
// input's header under both (harness/oracle's versions_test.go pins where
// they differ, none of it reachable from these inputs).
//
// Inputs come from three places: the distro corpus (every module of Debian's
// 6.12.107 kernel, distilled by the model, relocated onto 6.12.117's vmlinux
// BTF), hand-written conformance cases (the contract's rows and the upstream
// quirks found by the oracle) and seeded random cases. A case libbpf is not
// asked about (a member type cycle, on which libbpf never returns) must be
// refused by the model and the C core alike.
package threeway
