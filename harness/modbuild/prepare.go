package modbuild

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

// Prepare opens kernel release for arch with its headers (fetching what the
// cache lacks: resolving the release, the boot and headers packages) and
// ensures the chroot that builds its modules. Set-up lines go to log.
func Prepare(ctx context.Context, release, arch string, log io.Writer) (*kernels.Kernel, *Chroot, error) {
	if log == nil {
		log = io.Discard
	}
	k, err := kernels.Open(release, arch)
	if err == nil {
		if _, ok := k.HeadersDir(); !ok || len(k.Set.Headers()) != 3 {
			err = kernels.ErrNotCached
		}
	}
	if err != nil {
		k, err = (&kernels.Fetcher{Progress: log}).Get(ctx, release, arch, true)
	}
	if err != nil {
		if errors.Is(err, kernels.ErrNotCached) {
			return nil, nil, fmt.Errorf("%s %s: %w: %w", release, arch, ErrNoHeaders, err)
		}
		return nil, nil, err
	}
	var hostKbuild *vmimages.Entry
	if arch != "amd64" {
		f := &kernels.Fetcher{Progress: log}
		set, err := f.Lookup(ctx, release, "amd64")
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: the amd64 linux-kbuild for a cross build: %w", release, arch, err)
		}
		e, ok := set.Get(vmimages.KindKbuild)
		if !ok {
			return nil, nil, fmt.Errorf("%s %s: %w: no amd64 linux-kbuild-%s for a cross build", release, arch, ErrNoHeaders, release)
		}
		if err := f.AptPrepare(ctx, []vmimages.Entry{e}); err != nil {
			return nil, nil, err
		}
		if _, err := f.Fetch(ctx, e); err != nil {
			return nil, nil, err
		}
		hostKbuild = &e
	}
	spec, err := SpecFor(k, hostKbuild)
	if err != nil {
		return nil, nil, err
	}
	c, err := Ensure(ctx, k.CacheDir(), spec, log)
	if err != nil {
		return nil, nil, err
	}
	return k, c, nil
}
