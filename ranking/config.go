package ranking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"time"
)

// Duration is a time.Duration that reads and writes as a Go duration
// string ("6h", "90m") in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"6h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// TypeWeights weighs each kind of feed item.
type TypeWeights struct {
	Post  float64 `json:"post"`
	Photo float64 `json:"photo"`
	Class float64 `json:"class"` // a Class aggregate ("your friends gave Class to ...")
	Gift  float64 `json:"gift"`
	Live  float64 `json:"live"`
}

// InteractionWeights is how much one interaction adds to the affinity of
// the viewer (who did it) for the author (whom it was done to).
type InteractionWeights struct {
	Class        float64 `json:"class"`         // viewer gave Class to author's object
	Unclass      float64 `json:"unclass"`       // viewer took a Class back (negative)
	Gift         float64 `json:"gift"`          // viewer gave author a gift
	GiftReceived float64 `json:"gift_received"` // author gave viewer a gift
	GroupAdd     float64 `json:"group_add"`     // viewer put author in a friend group
	Friend       float64 `json:"friend"`        // viewer and author became friends (both ways)
}

// Config holds every ranking weight. Start from Defaults and change what
// differs; LoadConfig reads a JSON file of any subset, the keys it does not
// name keeping their defaults (an explicit 0 is a 0: a type or the
// engagement can be weighted out).
type Config struct {
	// Window is how many of the newest feed entries are ranked.
	Window int `json:"window"`
	// Types weighs item kinds; LiveBoost multiplies a broadcast while it
	// is live (an ended one is not shown at all).
	Types     TypeWeights `json:"types"`
	LiveBoost float64     `json:"live_boost"`
	// FreshnessHalfLife: an item's freshness halves every half-life.
	FreshnessHalfLife Duration `json:"freshness_half_life"`
	// Affinity = AffinityPrior + min(sum of interaction weights, each
	// halved every AffinityHalfLife, AffinityCap).
	AffinityPrior    float64            `json:"affinity_prior"`
	AffinityCap      float64            `json:"affinity_cap"`
	AffinityHalfLife Duration           `json:"affinity_half_life"`
	Interactions     InteractionWeights `json:"interactions"`
	// Engagement = 1 + EngagementWeight*ln(1+reactions) +
	// GrowthWeight*ln(1+reactions per hour since publication), reactions
	// being every kind's (Class! and the emotions; Class-only data: the
	// Class count, as before reactions).
	EngagementWeight float64 `json:"engagement_weight"`
	GrowthWeight     float64 `json:"growth_weight"`
	// Author diversity: the n-th further item of an author in the ranked
	// order is multiplied by max(DiversityDecay^n, DiversityFloor).
	DiversityDecay float64 `json:"diversity_decay"`
	DiversityFloor float64 `json:"diversity_floor"`
	// SnapshotTTL is how long a ranked order can be paged through.
	SnapshotTTL Duration `json:"snapshot_ttl"`
}

// Defaults returns the documented defaults (docs/ranking.md).
func Defaults() Config {
	return Config{
		Window:            300,
		Types:             TypeWeights{Post: 1, Photo: 1.3, Class: 0.7, Gift: 0.8, Live: 1.5},
		LiveBoost:         4,
		FreshnessHalfLife: Duration(6 * time.Hour),
		AffinityPrior:     1,
		AffinityCap:       20,
		AffinityHalfLife:  Duration(14 * 24 * time.Hour),
		Interactions:      InteractionWeights{Class: 1, Unclass: -1, Gift: 3, GiftReceived: 1, GroupAdd: 4, Friend: 0.5},
		EngagementWeight:  0.15,
		GrowthWeight:      0.3,
		DiversityDecay:    0.5,
		DiversityFloor:    0.25,
		SnapshotTTL:       Duration(30 * time.Minute),
	}
}

// MaxConfigBytes bounds a weights file.
const MaxConfigBytes = 64 << 10

// Validate reports the first weight that makes no sense.
func (c *Config) Validate() error {
	finite := func(name string, v float64, lo, hi float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
			return fmt.Errorf("ranking config: %s = %v, want %v..%v", name, v, lo, hi)
		}
		return nil
	}
	const big = 1e6
	errs := []error{
		finite("types.post", c.Types.Post, 0, big),
		finite("types.photo", c.Types.Photo, 0, big),
		finite("types.class", c.Types.Class, 0, big),
		finite("types.gift", c.Types.Gift, 0, big),
		finite("types.live", c.Types.Live, 0, big),
		finite("live_boost", c.LiveBoost, 0, big),
		finite("affinity_prior", c.AffinityPrior, 1e-6, big),
		finite("affinity_cap", c.AffinityCap, 0, big),
		finite("interactions.class", c.Interactions.Class, -big, big),
		finite("interactions.unclass", c.Interactions.Unclass, -big, big),
		finite("interactions.gift", c.Interactions.Gift, -big, big),
		finite("interactions.gift_received", c.Interactions.GiftReceived, -big, big),
		finite("interactions.group_add", c.Interactions.GroupAdd, -big, big),
		finite("interactions.friend", c.Interactions.Friend, -big, big),
		finite("engagement_weight", c.EngagementWeight, 0, big),
		finite("growth_weight", c.GrowthWeight, 0, big),
		finite("diversity_decay", c.DiversityDecay, 1e-6, 1),
		finite("diversity_floor", c.DiversityFloor, 0, 1),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Window < 1 || c.Window > 2000 {
		return fmt.Errorf("ranking config: window = %d, want 1..2000", c.Window)
	}
	for name, d := range map[string]Duration{"freshness_half_life": c.FreshnessHalfLife,
		"affinity_half_life": c.AffinityHalfLife, "snapshot_ttl": c.SnapshotTTL} {
		if time.Duration(d) < time.Second || time.Duration(d) > 365*24*time.Hour {
			return fmt.Errorf("ranking config: %s = %s, want 1s..8760h", name, time.Duration(d))
		}
	}
	return nil
}

// ParseConfig reads a JSON weights document: any subset of Config's keys,
// decoded over Defaults, so the keys it does not name keep their defaults
// and the ones it names (0 included) take its values. Unknown keys are an
// error (a typo must not silently leave a default in place).
func ParseConfig(data []byte) (Config, error) {
	if len(data) > MaxConfigBytes {
		return Config{}, fmt.Errorf("ranking config: %d bytes, at most %d", len(data), MaxConfigBytes)
	}
	c := Defaults()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("ranking config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("ranking config: trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads a weights file (JSON, see ParseConfig).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("ranking config: %w", err)
	}
	return ParseConfig(data)
}
