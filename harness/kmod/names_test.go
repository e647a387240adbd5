package kmod

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheckNames(t *testing.T) {
	known := []string{"gpio_amdpt", "gpio_amd_fch", "nls_utf8", "nls_ascii", "fat"}
	has := func(n string) bool {
		for _, k := range known {
			if k == n {
				return true
			}
		}
		return false
	}
	got, err := CheckNames([]string{"gpio-amdpt", " nls_utf8 ", "fat.ko.xz", ""}, has, known)
	if err != nil || !reflect.DeepEqual(got, []string{"gpio_amdpt", "nls_utf8", "fat"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = CheckNames([]string{"nls_utf9", "fat"}, has, known)
	if !errors.Is(err, ErrUnknownModule) || !strings.Contains(err.Error(), "nls_utf9 (closest: nls_utf8, nls_ascii, fat)") {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"nls_utf8", "nls_utf8", 0}, {"flaw", "lawn", 2}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
