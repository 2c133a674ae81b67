//! Positions on Earth and great-circle distances.

use serde::{Deserialize, Serialize};

/// A WGS84 position in decimal degrees; latitude in [-90, 90], longitude in [-180, 180].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    #[error("latitude must be between -90 and 90, found {0}")]
    Latitude(f64),
    #[error("longitude must be between -180 and 180, found {0}")]
    Longitude(f64),
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<LatLon, GeoError> {
        if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
            return Err(GeoError::Latitude(lat));
        }
        if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
            return Err(GeoError::Longitude(lon));
        }
        Ok(LatLon { lat, lon })
    }

    /// Great-circle (haversine) distance in kilometres.
    pub fn distance_km(self, other: LatLon) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

/// Parses a decimal number written with a decimal point or a decimal comma (`48,8566` or `48.8566`).
pub fn parse_decimal(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains(',') {
        if t.contains('.') || t.matches(',').count() > 1 {
            return None;
        }
        t.replace(',', ".").parse().ok()
    } else {
        t.parse().ok()
    }
    .filter(|v: &f64| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_to_marseille_is_about_661_km() {
        let paris = LatLon::new(48.8566, 2.3522).unwrap();
        let marseille = LatLon::new(43.2965, 5.3698).unwrap();
        let d = paris.distance_km(marseille);
        assert!((d - 661.0).abs() < 3.0, "{d}");
        assert_eq!(paris.distance_km(paris), 0.0);
    }

    #[test]
    fn bounds() {
        assert_eq!(LatLon::new(91.0, 0.0), Err(GeoError::Latitude(91.0)));
        assert_eq!(LatLon::new(0.0, -181.0), Err(GeoError::Longitude(-181.0)));
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("48,8566"), Some(48.8566));
        assert_eq!(parse_decimal("-1.5247"), Some(-1.5247));
        assert_eq!(parse_decimal("1,2.3"), None);
        assert_eq!(parse_decimal("nan"), None);
        assert_eq!(parse_decimal(""), None);
    }
}
