// Korean and English. The menu carries its own names; these are the page's words.
// Elements opt in with data-i18n="key" (text) and data-i18n-attr="attr:key;attr:key".

const STRINGS = {
  ko: {
    "app.name": "카페 컴퓨트",
    "lang.switch": "English",
    "lang.switch.label": "Switch to English",
    "skip": "본문으로 건너뛰기",
    "nav.order": "주문",
    "nav.barista": "바리스타",
    "nav.board": "픽업 보드",
    "offline": "오프라인입니다. 연결되면 자동으로 다시 시도합니다.",
    "busy": "주문 시스템이 잠시 바쁩니다. {seconds}초 후 자동으로 다시 시도합니다.",
    "footer.runtime": "응답한 런타임",
    "footer.last": "마지막 호출",
    "footer.unknown": "확인 중…",
    "footer.unreachable": "연결 안 됨",
    "live.on": "실시간",
    "live.polling": "몇 초마다 새로 고침",
    "runtime.lambda": "Lambda (Chalice)",
    "runtime.fargate": "Fargate (컨테이너)",
    "runtime.ec2": "EC2 (인스턴스)",
    "runtime.local": "로컬",
    "cat.espresso": "커피",
    "cat.tea": "티",
    "cat.non-coffee": "논커피",
    "cat.pastry": "베이커리",
    "menu.title": "메뉴",
    "menu.loading": "메뉴를 불러오는 중…",
    "menu.soldout": "품절",
    "menu.add": "담기",
    "menu.add.label": "{name} 담기",
    "menu.closed": "지금은 주문을 받지 않습니다.",
    "opt.title": "옵션 선택",
    "opt.quantity": "수량",
    "opt.less": "하나 빼기",
    "opt.more": "하나 더",
    "opt.add": "장바구니에 담기 · {price}",
    "opt.cancel": "닫기",
    "basket.title": "장바구니",
    "basket.empty": "장바구니가 비어 있습니다. 메뉴에서 골라 주세요.",
    "basket.remove": "삭제",
    "basket.remove.label": "{name} 삭제",
    "basket.qty.label": "{name} 수량",
    "basket.estimate": "예상 금액",
    "basket.estimate.note": "최종 금액은 주문 시 카페에서 계산합니다.",
    "basket.name": "주문자 이름",
    "basket.name.hint": "픽업할 때 불러드릴 이름 (1–40자)",
    "basket.place": "주문하기",
    "basket.placing": "주문 중…",
    "basket.view": "장바구니 보기",
    "basket.count": "{count}개",
    "basket.added": "{name}을(를) 담았습니다.",
    "recent.title": "최근 주문",
    "recent.item": "{number}번 · {status}",
    "track.title": "주문 현황",
    "track.number": "픽업 번호",
    "track.for": "{customer} 님",
    "track.total": "합계",
    "track.total.note": "카페 서버가 계산한 최종 금액입니다.",
    "track.cancel": "주문 취소",
    "track.cancel.confirm": "정말 취소할까요?",
    "track.cancel.yes": "네, 취소합니다",
    "track.cancel.no": "아니요",
    "track.back": "메뉴로 돌아가기",
    "track.live": "실시간으로 갱신됩니다.",
    "track.announce": "주문 {number}번: {status}",
    "track.notfound": "주문을 찾을 수 없습니다.",
    "track.link": "이 주문의 링크",
    "status.PLACED": "접수됨",
    "status.PREPARING": "준비 중",
    "status.READY": "픽업 가능",
    "status.COMPLETED": "픽업 완료",
    "status.CANCELLED": "취소됨",
    "status.help.PLACED": "주문이 접수되었습니다. 곧 준비를 시작합니다.",
    "status.help.PREPARING": "바리스타가 준비하고 있습니다.",
    "status.help.READY": "준비되었습니다! 카운터에서 받아 가세요.",
    "status.help.COMPLETED": "맛있게 드세요.",
    "status.help.CANCELLED": "이 주문은 취소되었습니다.",
    "err.store_closed": "지금은 주문을 받지 않습니다.",
    "err.queue_full": "대기 주문이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    "err.item_sold_out": "품절된 메뉴가 있습니다. 장바구니를 확인해 주세요.",
    "err.network": "서버에 연결할 수 없습니다. 같은 주문으로 다시 시도하면 중복 주문되지 않습니다.",
    "err.transition_refused": "이미 상태가 바뀌었습니다.",
    "err.stale_version": "다른 사람이 먼저 이 주문을 바꿨습니다. 목록을 새로 고쳤습니다.",
    "err.unavailable": "주문 시스템이 응답하지 않습니다. 잠시 후 다시 시도해 주세요.",
    "err.name": "이름을 입력해 주세요 (1–40자).",
    "err.auth": "스태프 토큰이 올바르지 않습니다.",
    "err.staff_locked_out": "잘못된 토큰이 너무 많이 입력되었습니다. 잠시 후 다시 시도해 주세요.",
    "err.https_required": "스태프 기능은 HTTPS 주소에서만 사용할 수 있습니다.",
    "err.generic": "문제가 발생했습니다: {message}",
    "staff.title": "바리스타",
    "staff.token": "스태프 토큰",
    "staff.signin": "로그인",
    "staff.signout": "로그아웃",
    "staff.signin.note": "토큰은 이 탭에만 저장되며 탭을 닫으면 지워집니다.",
    "store.title": "매장",
    "store.open": "주문 받는 중",
    "store.closed": "주문 마감",
    "store.toggle.open": "주문 받기 시작",
    "store.toggle.close": "주문 마감하기",
    "store.waiting": "대기 {waiting} / 최대 {max}",
    "store.cap": "최대 대기 주문 수",
    "store.save": "저장",
    "store.saved": "저장했습니다.",
    "queue.PLACED": "새 주문",
    "queue.PREPARING": "준비 중",
    "queue.READY": "픽업 대기",
    "queue.empty": "없음",
    "queue.waiting": "{min}분 대기",
    "queue.waiting.now": "방금",
    "act.start": "준비 시작",
    "act.ready": "준비 완료",
    "act.complete": "픽업 완료",
    "act.cancel": "취소",
    "act.done": "{number}번 → {status}",
    "avail.title": "품절 관리",
    "avail.label": "판매 중",
    "board.preparing": "준비 중",
    "board.ready": "픽업하세요",
    "board.none": "—",
  },
  en: {
    "app.name": "Café Compute",
    "lang.switch": "한국어",
    "lang.switch.label": "한국어로 보기",
    "skip": "Skip to content",
    "nav.order": "Order",
    "nav.barista": "Barista",
    "nav.board": "Pickup board",
    "offline": "You are offline. We will retry when the connection is back.",
    "busy": "The café's system is busy. Retrying in {seconds} s.",
    "footer.runtime": "Answered by",
    "footer.last": "last call",
    "footer.unknown": "checking…",
    "footer.unreachable": "unreachable",
    "live.on": "live",
    "live.polling": "refreshing every few seconds",
    "runtime.lambda": "Lambda (Chalice)",
    "runtime.fargate": "Fargate (container)",
    "runtime.ec2": "EC2 (instance)",
    "runtime.local": "local",
    "cat.espresso": "Coffee",
    "cat.tea": "Tea",
    "cat.non-coffee": "Non-coffee",
    "cat.pastry": "Bakery",
    "menu.title": "Menu",
    "menu.loading": "Loading the menu…",
    "menu.soldout": "Sold out",
    "menu.add": "Add",
    "menu.add.label": "Add {name}",
    "menu.closed": "We are not taking orders right now.",
    "opt.title": "Choose options",
    "opt.quantity": "Quantity",
    "opt.less": "One less",
    "opt.more": "One more",
    "opt.add": "Add to basket · {price}",
    "opt.cancel": "Close",
    "basket.title": "Basket",
    "basket.empty": "Your basket is empty. Pick something from the menu.",
    "basket.remove": "Remove",
    "basket.remove.label": "Remove {name}",
    "basket.qty.label": "Quantity of {name}",
    "basket.estimate": "Estimated total",
    "basket.estimate.note": "The café computes the final total when you order.",
    "basket.name": "Your name",
    "basket.name.hint": "We call this name at pickup (1–40 characters)",
    "basket.place": "Place order",
    "basket.placing": "Placing…",
    "basket.view": "View basket",
    "basket.count": "{count} items",
    "basket.added": "Added {name}.",
    "recent.title": "Your recent orders",
    "recent.item": "No. {number} · {status}",
    "track.title": "Your order",
    "track.number": "Pickup number",
    "track.for": "for {customer}",
    "track.total": "Total",
    "track.total.note": "The final total, as computed by the café.",
    "track.cancel": "Cancel order",
    "track.cancel.confirm": "Cancel this order?",
    "track.cancel.yes": "Yes, cancel it",
    "track.cancel.no": "No, keep it",
    "track.back": "Back to the menu",
    "track.live": "This page updates by itself.",
    "track.announce": "Order {number}: {status}",
    "track.notfound": "We could not find that order.",
    "track.link": "Link to this order",
    "status.PLACED": "Placed",
    "status.PREPARING": "Preparing",
    "status.READY": "Ready",
    "status.COMPLETED": "Picked up",
    "status.CANCELLED": "Cancelled",
    "status.help.PLACED": "We have your order and will start it shortly.",
    "status.help.PREPARING": "A barista is making it now.",
    "status.help.READY": "It is ready! Collect it at the counter.",
    "status.help.COMPLETED": "Enjoy!",
    "status.help.CANCELLED": "This order was cancelled.",
    "err.store_closed": "We are not taking orders right now.",
    "err.queue_full": "Too many orders are waiting. Please try again in a few minutes.",
    "err.item_sold_out": "Something in your basket just sold out. Please check it.",
    "err.network": "Cannot reach the café. Retrying this basket will not order twice.",
    "err.transition_refused": "Someone changed this order already.",
    "err.stale_version": "Someone changed this order first. The list is refreshed.",
    "err.unavailable": "The café's system is not answering. Please try again shortly.",
    "err.name": "Please enter your name (1–40 characters).",
    "err.auth": "That staff token is not valid.",
    "err.staff_locked_out": "Too many wrong tokens from here. Please try again later.",
    "err.https_required": "Staff actions work only over the HTTPS address.",
    "err.generic": "Something went wrong: {message}",
    "staff.title": "Barista",
    "staff.token": "Staff token",
    "staff.signin": "Sign in",
    "staff.signout": "Sign out",
    "staff.signin.note": "The token stays in this tab only and is forgotten when you close it.",
    "store.title": "Store",
    "store.open": "Taking orders",
    "store.closed": "Closed for orders",
    "store.toggle.open": "Open for orders",
    "store.toggle.close": "Stop taking orders",
    "store.waiting": "{waiting} waiting / cap {max}",
    "store.cap": "Most orders waiting",
    "store.save": "Save",
    "store.saved": "Saved.",
    "queue.PLACED": "New",
    "queue.PREPARING": "Preparing",
    "queue.READY": "Ready for pickup",
    "queue.empty": "None",
    "queue.waiting": "waiting {min} min",
    "queue.waiting.now": "just now",
    "act.start": "Start",
    "act.ready": "Ready",
    "act.complete": "Picked up",
    "act.cancel": "Cancel",
    "act.done": "No. {number} → {status}",
    "avail.title": "Sold-out items",
    "avail.label": "Available",
    "board.preparing": "Preparing",
    "board.ready": "Ready for pickup",
    "board.none": "—",
  },
};

const KEY = "cafe.lang";
export const LANGS = Object.keys(STRINGS);

function initial() {
  const saved = localStorage.getItem(KEY);
  if (saved && STRINGS[saved]) return saved;
  const prefs = navigator.languages || [navigator.language || "ko"];
  for (const p of prefs) {
    const base = String(p).slice(0, 2).toLowerCase();
    if (STRINGS[base]) return base;
  }
  return "ko";
}

let lang = initial();

export function getLang() {
  return lang;
}

/** The locale used for numbers, money and times. */
export function locale() {
  return lang === "ko" ? "ko-KR" : "en-US";
}

export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** The menu's own names: {ko, en}. */
export function local(name) {
  if (!name) return "";
  return name[lang] || name.en || name.ko || "";
}

export function money(amount, currency) {
  try {
    return new Intl.NumberFormat(locale(), { style: "currency", currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** Fill every data-i18n / data-i18n-attr element under root. */
export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function setLang(next) {
  if (!STRINGS[next]) return;
  lang = next;
  localStorage.setItem(KEY, next);
  apply();
  document.dispatchEvent(new CustomEvent("cafe:lang", { detail: next }));
}

export function toggleLang() {
  setLang(lang === "ko" ? "en" : "ko");
}
