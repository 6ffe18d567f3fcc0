package timeline

// Explain is why a ranked item is where it is: its score and the factors
// it is the product of (Score = TypeWeight x LiveBoost x Affinity x
// Freshness x Engagement x Diversity). The ranking package computes it;
// it rides on Item only when a client asks for it (explain=1).
type Explain struct {
	Score      float64 `json:"score" msgpack:"score"`
	TypeWeight float64 `json:"type_weight" msgpack:"type_weight"`
	LiveBoost  float64 `json:"live_boost" msgpack:"live_boost"`
	Affinity   float64 `json:"affinity" msgpack:"affinity"`
	Freshness  float64 `json:"freshness" msgpack:"freshness"`
	Engagement float64 `json:"engagement" msgpack:"engagement"`
	Diversity  float64 `json:"diversity" msgpack:"diversity"`
}
