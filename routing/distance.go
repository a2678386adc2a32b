package routing

import "math"

// earthRadiusKm is the mean Earth radius (IUGG), the usual constant for
// Haversine distances.
const earthRadiusKm = 6371.0088

// HaversineKm returns the great-circle distance in kilometres between two
// points given in degrees. It is accurate to about 0.5% (the Earth is not a
// sphere), which is plenty to tell a near location from a far one.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	s1 := math.Sin(dLat / 2)
	s2 := math.Sin(dLon / 2)
	a := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	// Rounding can push a a hair past 1 for antipodal points.
	a = min(1, max(0, a))
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(a))
}
