//! Call quality as ITU-T G.107 (the E-model) scores it: a transmission rating R from
//! one-way delay and packet loss, mapped to an estimated MOS.
//!
//! R = Ro − Is − Id − Ie,eff + A, with every parameter at its G.107 default except the
//! ones a call measures. The delay impairment Id is the sum of talker echo (Idte),
//! listener echo (Idle) and absolute delay (Idd) from the default echo and loudness
//! ratings; the loss impairment Ie,eff comes from the packet-loss percentage, the burst
//! ratio and the codec's Ie and Bpl (G.113 Appendix I: G.711 has Ie = 0, and a loss
//! robustness Bpl = 25.1 with packet-loss concealment, 4.3 without). With no loss and
//! little delay R is 93.2, a MOS of 4.41: the ceiling for narrowband G.711.

/// Ro at default loudness and noise: 15 − 1.5 (SLR + No), SLR = 8, No = −61.18 dBm0p.
const RO: f64 = 94.77;
/// Is at default sidetone, loudness and quantisation (Iolr + Ist + Iq).
const IS: f64 = 1.41;
/// Default talker echo loudness rating (dB).
const TELR: f64 = 65.0;
/// Default weighted echo path loss (dB).
const WEPL: f64 = 110.0;
/// Default noise floor (dBm0p) and receive loudness rating (dB).
const NO: f64 = -61.18;
const RLR: f64 = 2.0;

/// A codec's E-model parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModel {
    /// Equipment impairment of the codec with no loss.
    pub ie: f64,
    /// Packet-loss robustness.
    pub bpl: f64,
}

/// R and the MOS it maps to.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Quality {
    pub r_factor: f64,
    pub mos: f64,
}

impl EModel {
    /// G.711 with packet-loss concealment (this engine).
    pub const G711_WITH_PLC: EModel = EModel { ie: 0.0, bpl: 25.1 };
    /// G.711 without concealment.
    pub const G711_WITHOUT_PLC: EModel = EModel { ie: 0.0, bpl: 4.3 };

    /// R and MOS for a mouth-to-ear `one_way_delay_ms`, a packet-loss percentage
    /// (0–100) and a burst ratio (1 for random loss, above 1 for bursty loss).
    pub fn quality(&self, one_way_delay_ms: f64, loss_percent: f64, burst_ratio: f64) -> Quality {
        let r_factor = self.r_factor(one_way_delay_ms, loss_percent, burst_ratio);
        Quality {
            r_factor,
            mos: mos_from_r(r_factor),
        }
    }

    /// The transmission rating R (about 0–93 for G.711).
    pub fn r_factor(&self, one_way_delay_ms: f64, loss_percent: f64, burst_ratio: f64) -> f64 {
        let ppl = if loss_percent.is_finite() {
            loss_percent.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let burst_ratio = if burst_ratio.is_finite() && burst_ratio > 0.0 {
            burst_ratio
        } else {
            1.0
        };
        let ie_eff = self.ie + (95.0 - self.ie) * ppl / (ppl / burst_ratio + self.bpl);
        RO - IS - delay_impairment(one_way_delay_ms) - ie_eff
    }
}

/// Id: the impairment a one-way (mouth-to-ear) delay causes, with default echo
/// parameters and the round trip taken as twice the one-way delay.
pub fn delay_impairment(one_way_delay_ms: f64) -> f64 {
    let t = if one_way_delay_ms.is_finite() {
        one_way_delay_ms.max(0.0)
    } else {
        0.0
    };

    // Talker echo. For very short delays echo is indistinguishable from sidetone and
    // the formula dips a fraction below zero; that is taken as no impairment.
    let terv =
        TELR - 40.0 * ((1.0 + t / 10.0) / (1.0 + t / 150.0)).log10() + 6.0 * (-0.3 * t * t).exp();
    let roe = -1.5 * (NO - RLR);
    let re = 80.0 + 2.5 * (terv - 14.0);
    let idte = (((roe - re) / 2.0 + ((roe - re).powi(2) / 4.0 + 100.0).sqrt() - 1.0)
        * (1.0 - (-t).exp()))
    .max(0.0);

    // Listener echo over a round trip of 2T.
    let rle = 10.5 * (WEPL + 7.0) * (2.0 * t + 1.0).powf(-0.25);
    let idle = (RO - rle) / 2.0 + ((RO - rle).powi(2) / 4.0 + 169.0).sqrt();

    // Absolute delay beyond 100 ms.
    let idd = if t > 100.0 {
        let x = (t / 100.0).log2();
        25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0)
            + 2.0)
    } else {
        0.0
    };
    idte + idle + idd
}

/// G.107's mapping of R to an estimated MOS (1 to 4.5).
pub fn mos_from_r(r: f64) -> f64 {
    if !r.is_finite() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).clamp(1.0, 4.5)
    }
}

/// Received/lost outcomes of a stream's packets (or played frames), for the loss
/// percentage and G.107's burst ratio.
///
/// The burst ratio treats loss as a two-state Markov chain: with p the chance of a
/// loss after a received packet and q the chance of a reception after a loss,
/// BurstR = 1 / (p + q), which is 1 for independent (random) loss.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LossPattern {
    received: u64,
    lost: u64,
    /// Outcomes that followed a received packet, and how many of them were losses.
    after_received: u64,
    received_then_lost: u64,
    /// Outcomes that followed a loss, and how many of them were receptions.
    after_lost: u64,
    lost_then_received: u64,
    last: Option<bool>,
}

impl LossPattern {
    pub fn record(&mut self, received: bool) {
        if received {
            self.received += 1;
        } else {
            self.lost += 1;
        }
        match self.last {
            Some(true) => {
                self.after_received += 1;
                self.received_then_lost += u64::from(!received);
            }
            Some(false) => {
                self.after_lost += 1;
                self.lost_then_received += u64::from(received);
            }
            None => {}
        }
        self.last = Some(received);
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Lost share of all outcomes, in percent.
    pub fn loss_percent(&self) -> f64 {
        let total = self.received + self.lost;
        if total == 0 {
            0.0
        } else {
            100.0 * self.lost as f64 / total as f64
        }
    }

    /// G.107's BurstR (1 when there is too little loss to tell).
    pub fn burst_ratio(&self) -> f64 {
        if self.after_received == 0 || self.after_lost == 0 {
            return 1.0;
        }
        let p = self.received_then_lost as f64 / self.after_received as f64;
        let q = self.lost_then_received as f64 / self.after_lost as f64;
        if p + q <= f64::EPSILON {
            1.0
        } else {
            1.0 / (p + q)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G711: EModel = EModel::G711_WITH_PLC;

    #[test]
    fn clean_g711_at_low_delay_is_about_4_4() {
        let q = G711.quality(0.0, 0.0, 1.0);
        assert!((q.r_factor - 93.2).abs() < 0.1, "R {}", q.r_factor);
        let q = G711.quality(40.0, 0.0, 1.0);
        assert!(q.mos >= 4.3 && q.mos <= 4.45, "MOS {}", q.mos);
    }

    #[test]
    fn loss_lowers_the_score() {
        let three = G711.quality(60.0, 3.0, 1.0).mos;
        let ten = G711.quality(60.0, 10.0, 1.0).mos;
        assert!(three >= 3.8, "3% loss: MOS {three}");
        assert!(ten < 3.6 && ten < three - 0.4, "10% loss: MOS {ten}");
        // Without concealment the same loss hurts far more.
        assert!(EModel::G711_WITHOUT_PLC.quality(60.0, 3.0, 1.0).mos < 3.0);
        // Bursty loss hurts more than random loss at the same rate.
        assert!(G711.quality(60.0, 3.0, 2.0).mos < three);
    }

    #[test]
    fn monotonic_in_loss_and_delay() {
        let mut previous = f64::INFINITY;
        for tenth in 0..=400 {
            let r = G711.r_factor(50.0, f64::from(tenth) / 10.0, 1.0);
            assert!(r <= previous, "loss {}", f64::from(tenth) / 10.0);
            previous = r;
        }
        let mut previous = f64::INFINITY;
        for ms in 0..=600 {
            let r = G711.r_factor(f64::from(ms), 1.0, 1.0);
            assert!(r <= previous + 1e-9, "delay {ms} ms: {r} after {previous}");
            previous = r;
        }
        // Long delays are clearly worse.
        assert!(G711.quality(400.0, 0.0, 1.0).mos < 3.8);
    }

    #[test]
    fn mos_mapping_bounds() {
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(f64::NAN), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert!((mos_from_r(93.2) - 4.41).abs() < 0.01);
        assert!((mos_from_r(50.0) - 2.58).abs() < 0.01);
    }

    #[test]
    fn loss_pattern_measures_rate_and_burstiness() {
        let mut random = LossPattern::default();
        // Every 10th lost: isolated losses.
        for n in 0..1000 {
            random.record(n % 10 != 0);
        }
        assert_eq!(random.lost(), 100);
        assert!((random.loss_percent() - 10.0).abs() < 1e-9);
        assert!(random.burst_ratio() < 1.2);

        let mut bursty = LossPattern::default();
        // Losses in runs of 5 every 50.
        for n in 0..1000 {
            bursty.record(n % 50 >= 5);
        }
        assert!((bursty.loss_percent() - 10.0).abs() < 1e-9);
        assert!(bursty.burst_ratio() > 3.0, "{}", bursty.burst_ratio());

        assert_eq!(LossPattern::default().burst_ratio(), 1.0);
        assert_eq!(LossPattern::default().loss_percent(), 0.0);
    }
}
