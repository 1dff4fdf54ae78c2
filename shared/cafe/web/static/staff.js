// The staff token: entered once per tab, kept in sessionStorage (gone when the tab closes),
// checked against a staff-only call before it is kept.
import { api } from "./api.js";
import { errorText, holdBusy } from "./ui.js";

const KEY = "cafe.staffToken";

export function getToken() {
  return sessionStorage.getItem(KEY);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * Show the sign-in form until a token works, then call onReady(token).
 * Expects #signin (form) with #token (input), #signin-error and #staff (the signed-in view).
 */
export function requireToken(onReady) {
  const form = document.getElementById("signin");
  const input = document.getElementById("token");
  const error = document.getElementById("signin-error");
  const staff = document.getElementById("staff");
  const show = (signedIn) => {
    form.hidden = signedIn;
    staff.hidden = !signedIn;
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      input.focus();
      return;
    }
    const release = holdBusy(form.querySelector("button[type=submit]"));
    error.hidden = true;
    try {
      await api("/orders?status=READY", { token });
      sessionStorage.setItem(KEY, token);
      input.value = "";
      show(true);
      onReady(token);
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } finally {
      release({ refocus: false });
    }
  });
  const token = getToken();
  show(Boolean(token));
  if (token) onReady(token);
  else input.focus();
  return {
    signOut(message) {
      clearToken();
      show(false);
      if (message) {
        error.textContent = message;
        error.hidden = false;
      }
      input.focus();
    },
  };
}
