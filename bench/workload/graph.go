package workload

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/lenta-dev/lenta/schema"
)

// Config sizes the network. Zero fields take the defaults of WithDefaults.
type Config struct {
	// Users are ordinary accounts, ids 1..Users.
	Users int
	// MeanFriends is the target mean of the power-law friend degree.
	MeanFriends float64
	// Alpha is the Pareto exponent of the friend degree (2.0: a long tail
	// whose mean is twice the minimum).
	Alpha float64
	// MaxFriends caps one user's friends (OK.ru caps at 10,000); default
	// min(5000, Users/10).
	MaxFriends int
	// Communities are followed accounts, ids Users+1..Users+Communities;
	// default Users/100 (at least 1).
	Communities int
	// FollowsPerUser is the mean number of communities a user follows
	// (about a dozen on OK.ru); capped at Communities.
	FollowsPerUser float64
	// LargeAuthors are public profiles followed by LargeFollowFrac of all
	// users, meant to be above feedd's --large-threshold; ids after the
	// communities.
	LargeAuthors    int
	LargeFollowFrac float64
	// Seed makes the network and the events reproducible.
	Seed uint64
	// IDPrefix starts every event id and object id (keep runs apart).
	IDPrefix string
}

// WithDefaults fills zero fields in.
func (c Config) WithDefaults() Config {
	if c.Users <= 0 {
		c.Users = 10_000
	}
	if c.MeanFriends <= 0 {
		c.MeanFriends = 90
	}
	if c.Alpha <= 1 {
		c.Alpha = 2.0
	}
	if c.MaxFriends <= 0 {
		c.MaxFriends = min(5000, max(c.Users/10, 10))
	}
	c.MaxFriends = min(c.MaxFriends, c.Users-1)
	if c.Communities <= 0 {
		c.Communities = max(1, c.Users/100)
	}
	if c.FollowsPerUser <= 0 {
		c.FollowsPerUser = 12
	}
	c.FollowsPerUser = min(c.FollowsPerUser, float64(c.Communities))
	if c.LargeAuthors < 0 {
		c.LargeAuthors = 0
	}
	if c.LargeFollowFrac <= 0 {
		c.LargeFollowFrac = 0.5
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.IDPrefix == "" {
		c.IDPrefix = "b"
	}
	return c
}

// Validate reports a config that cannot make a network.
func (c Config) Validate() error {
	if c.Users < 2 {
		return errors.New("workload: at least 2 users")
	}
	if c.LargeFollowFrac > 1 {
		return fmt.Errorf("workload: large follow fraction %v is over 1", c.LargeFollowFrac)
	}
	return nil
}

// Graph is a generated network. Ids: users 1..Users, then communities,
// then large authors.
type Graph struct {
	Config      Config
	Communities []int64
	Large       []int64
	// friends[u] are u's friends, ascending (index = user id).
	friends [][]int64
	// followers[a] are the followers of account a, ascending.
	followers map[int64][]int64
	// follows are the (follower, account) pairs, in load order.
	follows [][2]int64
	// pairs are the friendships (a < b), in load order.
	pairs [][2]int64
}

// NewGraph generates the network of c (after WithDefaults).
func NewGraph(c Config) (*Graph, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6c656e7461))
	g := &Graph{Config: c, followers: map[int64][]int64{}}
	n := c.Users
	// Configuration model: each user gets a Pareto degree (scaled so the
	// mean is MeanFriends), stubs are shuffled and paired; self loops and
	// repeated pairs are dropped (a few percent).
	xm := c.MeanFriends * (c.Alpha - 1) / c.Alpha
	stubs := make([]int32, 0, int(float64(n)*c.MeanFriends)+n)
	for u := 1; u <= n; u++ {
		d := xm / math.Pow(1-rng.Float64(), 1/c.Alpha)
		k := min(int(math.Round(d)), c.MaxFriends)
		for range k {
			stubs = append(stubs, int32(u))
		}
	}
	rng.Shuffle(len(stubs), func(i, j int) { stubs[i], stubs[j] = stubs[j], stubs[i] })
	seen := make(map[uint64]struct{}, len(stubs)/2)
	g.friends = make([][]int64, n+1)
	for i := 0; i+1 < len(stubs); i += 2 {
		a, b := int64(stubs[i]), int64(stubs[i+1])
		if a == b {
			continue
		}
		if a > b {
			a, b = b, a
		}
		key := uint64(a)<<32 | uint64(b)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		g.pairs = append(g.pairs, [2]int64{a, b})
		g.friends[a] = append(g.friends[a], b)
		g.friends[b] = append(g.friends[b], a)
	}
	for _, f := range g.friends {
		slices.Sort(f)
	}
	// Communities: each user follows about FollowsPerUser of them, picked
	// by a Zipf-like popularity (weight 1/(rank+30)).
	next := int64(n + 1)
	for range c.Communities {
		g.Communities = append(g.Communities, next)
		next++
	}
	cum := make([]float64, c.Communities)
	total := 0.0
	for i := range cum {
		total += 1 / float64(i+30)
		cum[i] = total
	}
	for u := int64(1); u <= int64(n); u++ {
		k := poisson(rng, c.FollowsPerUser)
		k = min(k, c.Communities)
		picked := map[int]struct{}{}
		for tries := 0; len(picked) < k && tries < 4*k+8; tries++ {
			x := rng.Float64() * total
			i, _ := slices.BinarySearch(cum, x)
			picked[min(i, c.Communities-1)] = struct{}{}
		}
		idx := make([]int, 0, len(picked))
		for i := range picked {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		for _, i := range idx {
			g.follow(u, g.Communities[i])
		}
	}
	for range c.LargeAuthors {
		a := next
		next++
		g.Large = append(g.Large, a)
		for u := int64(1); u <= int64(n); u++ {
			if rng.Float64() < c.LargeFollowFrac {
				g.follow(u, a)
			}
		}
	}
	return g, nil
}

func (g *Graph) follow(u, a int64) {
	g.follows = append(g.follows, [2]int64{u, a})
	g.followers[a] = append(g.followers[a], u) // u ascends in both loops
}

// poisson draws from Poisson(mean) (Knuth for small means, normal above).
func poisson(rng *rand.Rand, mean float64) int {
	if mean > 30 {
		return max(0, int(math.Round(rng.NormFloat64()*math.Sqrt(mean)+mean)))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Accounts is the number of ids in use (users, communities, large).
func (g *Graph) Accounts() int64 {
	return int64(g.Config.Users + len(g.Communities) + len(g.Large))
}

// Friends returns u's friends, ascending (nil for communities).
func (g *Graph) Friends(u int64) []int64 {
	if u < 1 || u >= int64(len(g.friends)) {
		return nil
	}
	return g.friends[u]
}

// Followers returns a's followers, ascending.
func (g *Graph) Followers(a int64) []int64 { return g.followers[a] }

// Audience is who receives a public item of author: friends and followers.
func (g *Graph) Audience(author int64) int {
	return len(g.Friends(author)) + len(g.Followers(author))
}

// Stats describe a generated network.
type Stats struct {
	Users        int     `json:"users"`
	Communities  int     `json:"communities"`
	LargeAuthors int     `json:"large_authors"`
	Friendships  int     `json:"friendships"`
	Follows      int     `json:"follows"`
	MeanFriends  float64 `json:"mean_friends"`
	MedianFriend int     `json:"median_friends"`
	P99Friends   int     `json:"p99_friends"`
	MaxFriends   int     `json:"max_friends"`
	MaxFollowers int     `json:"max_community_followers"`
	LargeFollow  int     `json:"large_author_followers"`
	GraphEvents  int     `json:"graph_events"`
}

// Stats summarises the network.
func (g *Graph) Stats() Stats {
	s := Stats{Users: g.Config.Users, Communities: len(g.Communities), LargeAuthors: len(g.Large),
		Friendships: len(g.pairs), Follows: len(g.follows)}
	deg := make([]int, 0, g.Config.Users)
	for u := 1; u <= g.Config.Users; u++ {
		deg = append(deg, len(g.friends[u]))
	}
	slices.Sort(deg)
	s.MeanFriends = float64(2*len(g.pairs)) / float64(g.Config.Users)
	s.MedianFriend = deg[len(deg)/2]
	s.P99Friends = deg[len(deg)*99/100]
	s.MaxFriends = deg[len(deg)-1]
	for _, c := range g.Communities {
		s.MaxFollowers = max(s.MaxFollowers, len(g.followers[c]))
	}
	for _, a := range g.Large {
		s.LargeFollow = max(s.LargeFollow, len(g.followers[a]))
	}
	s.GraphEvents = len(g.pairs) + len(g.follows)
	return s
}

// GraphEvents returns the events that build the network through the API:
// one friend event per friendship and one follow event per follow, with
// timestamp ts.
func (g *Graph) GraphEvents(ts int64) []schema.Event {
	out := make([]schema.Event, 0, len(g.pairs)+len(g.follows))
	p := g.Config.IDPrefix
	for i, pr := range g.pairs {
		out = append(out, schema.Event{ID: p + "-f" + strconv.Itoa(i), Type: schema.Friend,
			Actor: pr[0], Target: pr[1], TS: ts})
	}
	for i, f := range g.follows {
		out = append(out, schema.Event{ID: p + "-w" + strconv.Itoa(i), Type: schema.Follow,
			Actor: f[0], Target: f[1], TS: ts})
	}
	return out
}

// SuggestedThreshold is a --large-threshold for feedd that puts exactly the
// large authors above it (and every user and community below): midway
// between the biggest other audience and the smallest large one.
func (g *Graph) SuggestedThreshold() int64 {
	other := 0
	for u := int64(1); u <= int64(g.Config.Users); u++ {
		other = max(other, g.Audience(u))
	}
	for _, c := range g.Communities {
		other = max(other, g.Audience(c))
	}
	if len(g.Large) == 0 {
		return int64(other + 1)
	}
	least := math.MaxInt
	for _, a := range g.Large {
		least = min(least, g.Audience(a))
	}
	if least <= other {
		return int64(other + 1) // the large authors are not larger: nobody is large
	}
	return int64((other + least) / 2)
}
