package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/scim"
)

// Environment variables of the limits an operator tunes; each has a flag
// of serve (and --token-cache-ttl of 'token revoke' too). The README's
// configuration table lists them.
const (
	envSCIMRate             = "ROSTER_SCIM_RATE"
	envSCIMBurst            = "ROSTER_SCIM_BURST"
	envMaxBodyBytes         = "ROSTER_MAX_BODY_BYTES"
	envTokenCacheTTL        = "ROSTER_TOKEN_CACHE_TTL"
	envShutdownTimeout      = "ROSTER_SHUTDOWN_TIMEOUT"
	envReconcileConcurrency = "ROSTER_RECONCILE_CONCURRENCY"
)

// Defaults of the limits.
const (
	defaultShutdownTimeout      = 15 * time.Second
	defaultReconcileConcurrency = 2
	maxReconcileConcurrency     = 64
)

// knob is a setting given by a flag or, when the flag is not on the
// command line, by its environment variable. It remembers which, so that
// a bad value is reported under the name the operator wrote.
type knob struct {
	flag, env string
	value     string
	fromEnv   bool
}

// register declares the knob's flag on fs with default def.
func (k *knob) register(fs *pflag.FlagSet, flag, env, def, usage string) {
	k.flag, k.env = flag, env
	fs.StringVar(&k.value, flag, def, usage+" (env "+env+")")
}

// resolve takes the value from the environment unless the flag was given.
func (k *knob) resolve(fs *pflag.FlagSet, getenv func(string) string) {
	if fs.Changed(k.flag) {
		return
	}
	if v := getenv(k.env); v != "" {
		k.value, k.fromEnv = v, true
	}
}

// invalid is the usage error of a value the knob does not accept; accepts
// says what it does.
func (k *knob) invalid(accepts string) error {
	if k.fromEnv {
		return usageError{fmt.Errorf("%s=%q: %s", k.env, k.value, accepts)}
	}
	return usageError{fmt.Errorf("--%s %q: %s", k.flag, k.value, accepts)}
}

// duration parses a non-negative duration such as 10s or 1m30s ("0" is
// zero).
func (k *knob) duration(accepts string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(k.value))
	if err != nil || d < 0 {
		return 0, k.invalid(accepts)
	}
	return d, nil
}

// integer parses a whole number in [lo, hi].
func (k *knob) integer(lo, hi int, accepts string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(k.value))
	if err != nil || n < lo || n > hi {
		return 0, k.invalid(accepts)
	}
	return n, nil
}

// sizeUnits are the suffixes parseSize accepts, longest first so that
// "KiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	n      int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9},
	{"b", 1},
}

// parseSize reads a byte count: a whole number, optionally followed by a
// unit (B, KB, MB, GB in powers of 1000; KiB, MiB, GiB in powers of 1024),
// such as 2097152, 2MiB or 500KB.
func parseSize(s string) (int64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// tokenCacheTTL is the knob of how long servers remember a successful
// token check: serve's cache, and what 'token revoke' says about it.
func tokenCacheTTLKnob(fs *pflag.FlagSet, k *knob, usage string) {
	k.register(fs, "token-cache-ttl", envTokenCacheTTL, scim.DefaultAuthCacheTTL.String(), usage)
}

func (k *knob) tokenCacheTTL() (time.Duration, error) {
	return k.duration("give a duration such as 10s or 1m; 0 checks the store on every request")
}

// serveLimits are serve's limits, parsed.
type serveLimits struct {
	scimRate             float64 // requests per second per token; 0: no limit
	scimBurst            int
	maxBodyBytes         int64
	tokenCacheTTL        time.Duration
	shutdownTimeout      time.Duration
	reconcileConcurrency int // 0: no start-up reconcile
}

// limits parses the knobs of o; the first bad one is a usage error naming
// its flag or variable.
func (o *serveOptions) limits() (*serveLimits, error) {
	l := &serveLimits{}
	r, err := strconv.ParseFloat(strings.TrimSpace(o.scimRate.value), 64)
	if err != nil || r < 0 || r != r || r > 1e9 {
		return nil, o.scimRate.invalid("give requests per second per token, a number ≥ 0 (0 turns the limit off)")
	}
	l.scimRate = r
	if strings.TrimSpace(o.scimBurst.value) == "" {
		l.scimBurst = max(int(min(2*r, 2e9)), 1)
	} else if l.scimBurst, err = o.scimBurst.integer(1, 2e9, "give how many requests a token may send at once, a whole number ≥ 1 (default twice --scim-rate)"); err != nil {
		return nil, err
	}
	n, ok := parseSize(o.maxBodyBytes.value)
	if !ok || n < 1 {
		return nil, o.maxBodyBytes.invalid("give a size in bytes ≥ 1, such as 2097152, 2MiB or 500KB")
	}
	l.maxBodyBytes = n
	if l.tokenCacheTTL, err = o.tokenCacheTTL.tokenCacheTTL(); err != nil {
		return nil, err
	}
	if l.shutdownTimeout, err = o.shutdownTimeout.duration("give a duration such as 15s or 1m"); err != nil {
		return nil, err
	}
	if l.reconcileConcurrency, err = o.reconcileConcurrency.integer(0, maxReconcileConcurrency,
		fmt.Sprintf("give how many tenants the start-up reconcile repairs at once, 1 to %d (0 skips it)", maxReconcileConcurrency)); err != nil {
		return nil, err
	}
	return l, nil
}

// scimOptions configures the SCIM handler with the limits.
func (l *serveLimits) scimOptions() []scim.Option {
	return []scim.Option{
		scim.WithRateLimit(l.scimRate, l.scimBurst),
		scim.WithMaxBodyBytes(l.maxBodyBytes),
		scim.WithAuthCacheTTL(l.tokenCacheTTL),
	}
}
