// Placeholder until calibrated.
pub const MEAN: [f64; 18] = [0.0; 18];
pub const SCALE: [f64; 18] = [1.0; 18];
pub const W_CORRECT: [f64; 18] = [0.0, 0.0, 4.0, 2.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -2.0, 0.0, 0.0, 0.0];
pub const B_CORRECT: f64 = -2.0;
pub const W_CONTRA: [f64; 18] = [0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
pub const B_CONTRA: f64 = -1.0;
pub const THRESHOLD: f64 = 0.5;
pub const BASELINE_THRESHOLD: f64 = 0.5;
