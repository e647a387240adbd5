package scenario

import "testing"

func TestRegistrationFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		kmsg []string
		want string
	}{
		// Lines as 6.1.192 + the series printed them (validate --kasan, amd64).
		{"both registered", []string{"btfrecon_test: loaded, kfunc set registered: 0, dtor registered: 0"}, ""},
		{"no BTF", []string{"btfrecon_test: loaded, kfunc set registered: 0, dtor registered: -2"}, "dtor -2"},
		{"patched kernel's bound", []string{"btfrecon_up: loaded, kfunc set registered: -22"}, "kfunc set -22"},
		{"kfuncset module", []string{"btfrecon_kfuncset: kfunc set registered: 0; list ids 1 2 3 4; set cnt 3"}, ""},
		{"other lines", []string{"BPF: [5] STRUCT foo", "nf_conntrack: registered"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := registrationFailures(tc.kmsg); got != tc.want {
				t.Errorf("registrationFailures = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJudgeRegistered(t *testing.T) {
	row := Row{Agree: true, Verdict: "agree: identical"}
	if got := judgeRegistered(row, []string{"btfrecon_test: loaded, kfunc set registered: 0, dtor registered: 0"}); !got.Agree {
		t.Errorf("clean registrations judged %q", got.Verdict)
	}
	got := judgeRegistered(row, []string{"btfrecon_test: loaded, kfunc set registered: 0, dtor registered: -22"})
	if got.Agree || got.Verdict != "DISAGREE: the module kept its BTF, but its init failed to register with it (dtor -22)" {
		t.Errorf("failed dtor registration judged %v %q", got.Agree, got.Verdict)
	}
}
