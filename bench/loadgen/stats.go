package main

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxSamples bounds the latency samples kept over all workers: beyond it each
// worker keeps a uniform reservoir sample, so memory stays flat however long
// the run, while max, mean and counts stay exact.
const maxSamples = 1_000_000

// reservoir keeps a uniform sample of one worker's latencies (Algorithm R)
// plus exact count, sum and max.
type reservoir struct {
	limit   int
	seen    int64
	sum     time.Duration
	max     time.Duration
	samples []time.Duration
	rng     *rand.Rand
}

func newReservoir(limit int, seed uint64) *reservoir {
	return &reservoir{limit: max(limit, 1), rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

func (r *reservoir) add(d time.Duration) {
	r.seen++
	r.sum += d
	r.max = max(r.max, d)
	if len(r.samples) < r.limit {
		r.samples = append(r.samples, d)
		return
	}
	if j := r.rng.Int64N(r.seen); j < int64(r.limit) {
		r.samples[j] = d
	}
}

// Latency is the latency summary of a run, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// summarize merges the workers' reservoirs. Each sample stands for
// seen/len(samples) requests of its worker, so workers that were sampled
// more sparsely are not under-weighted; without sampling every weight is 1
// and the percentiles are exact (nearest rank).
func summarize(rs []*reservoir) (Latency, int) {
	type weighted struct {
		d time.Duration
		w float64
	}
	var all []weighted
	var total float64
	var seen int64
	var sum, maxD time.Duration
	for _, r := range rs {
		if len(r.samples) == 0 {
			continue
		}
		w := float64(r.seen) / float64(len(r.samples))
		for _, d := range r.samples {
			all = append(all, weighted{d, w})
		}
		total += float64(r.seen)
		seen += r.seen
		sum += r.sum
		maxD = max(maxD, r.max)
	}
	if len(all) == 0 {
		return Latency{}, 0
	}
	slices.SortFunc(all, func(a, b weighted) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	quantile := func(q float64) time.Duration {
		target := q * total
		var cum float64
		for _, s := range all {
			cum += s.w
			if cum >= target-1e-9 {
				return s.d
			}
		}
		return all[len(all)-1].d
	}
	return Latency{
		P50:  ms(quantile(0.50)),
		P90:  ms(quantile(0.90)),
		P99:  ms(quantile(0.99)),
		Max:  ms(maxD),
		Mean: ms(sum / time.Duration(seen)),
	}, len(all)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// recorder is one worker's tally; only that worker touches it.
type recorder struct {
	lat       *reservoir
	status    map[int]int64
	errors    int64
	badBodies int64
	algs      map[string]int64 // tokens by their header's alg
	reused    int64            // tokens equal to the worker's previous one
	wantAlg   string           // --alg
	// the worker's previous token and header, and the header's alg
	lastToken, lastHeader, lastAlg string
}

// errorLog keeps the first few failure descriptions, shared by all workers.
type errorLog struct {
	mu    sync.Mutex
	limit int
	items []string
}

func (l *errorLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) < l.limit {
		l.items = append(l.items, s)
	}
}

// full reports whether the log takes no more items, so workers need not
// format descriptions nobody will see.
func (l *errorLog) full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items) >= l.limit
}

// Result is what a run measured. Its JSON form is the --json output.
type Result struct {
	URL         string `json:"url"`
	Scenario    string `json:"scenario"`
	ScopeMode   string `json:"scope_mode"`
	Concurrency int    `json:"concurrency"`
	// Rate is Config.Rate: requests due per second (open loop), 0 for a
	// closed loop.
	Rate float64 `json:"rate,omitempty"`
	// Elapsed is the measured phase, from its start until the last request
	// in flight finished (warm-up excluded).
	Elapsed float64 `json:"elapsed_seconds"`
	// Requests counts every request of the measured phase: responses of any
	// status plus transport errors.
	Requests int64 `json:"requests"`
	// OK counts 200 responses whose body carries a token.
	OK   int64   `json:"ok"`
	RPS  float64 `json:"requests_per_second"`
	OKPS float64 `json:"ok_per_second"`
	// Latency covers every request that got a response, whatever its status.
	Latency        Latency          `json:"latency_ms"`
	LatencySamples int              `json:"latency_samples"`
	Status         map[string]int64 `json:"status"`
	// Errors counts requests that got no HTTP response (refused, reset, timed out).
	Errors int64 `json:"errors"`
	// BadBodies counts 200 responses without a "token" field, or with a
	// token signed otherwise than --alg asks.
	BadBodies int64 `json:"bad_bodies"`
	// Algs counts the tokens by the alg of their header (RS256, ES256, …;
	// "?" for a header that does not decode).
	Algs map[string]int64 `json:"algs"`
	// Reused counts the 200 answers whose token is the one the same
	// worker got just before: a token answered again within
	// token.reuse_window (the reuse scenario's figure).
	Reused       int64    `json:"reused"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Flood counts the flooded scenario's guesses by status ("error": no
	// answer), over the warm-up and the measured phase.
	Flood map[string]int64 `json:"flood,omitempty"`
}

// merge adds up the workers' tallies into res.
func (res *Result) merge(recs []*recorder) {
	res.Status = map[string]int64{}
	res.Algs = map[string]int64{}
	lats := make([]*reservoir, len(recs))
	for i, r := range recs {
		for alg, n := range r.algs {
			res.Algs[alg] += n
		}
		res.Reused += r.reused
		for code, n := range r.status {
			res.Status[strconv.Itoa(code)] += n
			res.Requests += n
		}
		res.Requests += r.errors
		res.Errors += r.errors
		res.BadBodies += r.badBodies
		lats[i] = r.lat
	}
	res.OK = res.Status["200"] - res.BadBodies
	res.Latency, res.LatencySamples = summarize(lats)
	if res.Elapsed > 0 {
		res.RPS = float64(res.Requests) / res.Elapsed
		res.OKPS = float64(res.OK) / res.Elapsed
	}
}
