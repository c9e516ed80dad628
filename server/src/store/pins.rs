//! Dial-in PINs: each invite gets a short numeric PIN a candidate types on a phone keypad. The
//! PIN is shown once (with the link) and stored only as an HMAC keyed with a server secret, so
//! a copy of the database alone does not give the PINs away (a bare hash of 8 digits would be
//! reversed in seconds).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{invite_row, InviteRow, Result, Store, StoreError, INVITE_COLUMNS};

/// The server secret that keys PIN hashes.
const PIN_SECRET: &str = "dial_in_pins";
/// New PINs tried before giving up on finding one that no open invite uses.
const PIN_TRIES: usize = 20;

/// Where a PIN leads.
#[derive(Debug, Clone, PartialEq)]
pub enum PinLookup {
    /// No invite has this PIN.
    Unknown,
    Revoked,
    Expired,
    /// Not used yet: the call may start the interview.
    Open(InviteRow),
    /// Used: its interview, the session that runs it and the interview's state.
    Used {
        invite: InviteRow,
        interview_id: Option<String>,
        session_id: Option<String>,
        state: Option<String>,
    },
}

fn pin_hash(secret: &str, pin: &str) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(pin.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// A random PIN of `digits` digits (uniform: rejection sampling on random bytes).
fn random_pin(digits: usize) -> Result<String> {
    let mut pin = String::with_capacity(digits);
    while pin.len() < digits {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| StoreError::Random(e.to_string()))?;
        // 250 = 25 × 10: bytes at or above it would favour low digits.
        for x in b.iter().filter(|x| **x < 250) {
            if pin.len() < digits {
                pin.push(char::from(b'0' + x % 10));
            }
        }
    }
    Ok(pin)
}

impl Store {
    /// Gives the invite a new PIN of `digits` digits (6–8) that no other open invite has, and
    /// returns it: the only time it is readable.
    pub async fn assign_pin(&self, invite_id: &str, digits: usize, now: i64) -> Result<String> {
        let digits = digits.clamp(6, 8);
        let secret = self.server_secret(PIN_SECRET).await?;
        for _ in 0..PIN_TRIES {
            let pin = random_pin(digits)?;
            let hash = pin_hash(&secret, &pin);
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT id FROM invites WHERE pin_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(&hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            if taken.is_some() {
                continue;
            }
            let done = sqlx::query("UPDATE invites SET pin_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(invite_id)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("invite"));
            }
            return Ok(pin);
        }
        Err(StoreError::Invalid(format!(
            "no free {digits}-digit PIN found in {PIN_TRIES} tries; use more digits"
        )))
    }

    /// What the PIN `pin` opens at `now` (the newest invite with it).
    pub async fn invite_by_pin(&self, pin: &str, now: i64) -> Result<PinLookup> {
        let secret = self.server_secret(PIN_SECRET).await?;
        let sql = format!(
            "SELECT {INVITE_COLUMNS} FROM invites WHERE pin_hash = $1 ORDER BY created_at DESC, id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(pin_hash(&secret, pin))
            .fetch_optional(&self.pool)
            .await?;
        let Some(invite) = row.as_ref().map(invite_row).transpose()? else {
            return Ok(PinLookup::Unknown);
        };
        if invite.revoked_at.is_some() {
            return Ok(PinLookup::Revoked);
        }
        if invite.used_at.is_none() {
            return Ok(if invite.expires_at <= now {
                PinLookup::Expired
            } else {
                PinLookup::Open(invite)
            });
        }
        // Used: the newest interview of the invite and the session that recorded it.
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT i.id, i.state, r.session_id FROM interviews i LEFT JOIN recordings r ON r.interview_id = i.id \
             WHERE i.invite_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT 1",
        )
        .bind(&invite.id)
        .fetch_optional(&self.pool)
        .await?;
        let (interview_id, state, session_id) = match row {
            Some((i, s, r)) => (Some(i), Some(s), r),
            None => (None, None, None),
        };
        Ok(PinLookup::Used {
            invite,
            interview_id,
            session_id,
            state,
        })
    }

    /// Uses the invite `id` once (as [`Store::redeem_invite`] does with a token): None when it
    /// was used, revoked or expired in the meantime.
    pub async fn redeem_invite_id(&self, id: &str, now: i64) -> Result<Option<InviteRow>> {
        let sql = format!("UPDATE invites SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING {INVITE_COLUMNS}");
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invite_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_of_the_asked_length() {
        for digits in [6, 7, 8] {
            let p = random_pin(digits).unwrap();
            assert_eq!(p.len(), digits);
            assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
        }
    }

    #[test]
    fn the_hash_is_keyed() {
        assert_ne!(pin_hash("a", "12345678"), pin_hash("b", "12345678"));
        assert_eq!(pin_hash("a", "12345678"), pin_hash("a", "12345678"));
    }
}
