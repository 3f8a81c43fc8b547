// hamlet's interface works without this script; it only helps. Loaded from /static/app.js
// (the CSP allows no inline script).
"use strict";

// A mainland resident ID number (GB 11643-1999) as the ledger checks it (ledger/check.c):
// 17 digits whose 7th to 14th are a birth date (a date from 1900, as every date of the ledger),
// and a check of 0-9 or X. Shown as the clerk types; the ledger checks it again on the station.
function hmIdNumberOk(s) {
	if (!/^[0-9]{17}[0-9Xx]$/.test(s)) return false;
	const y = +s.slice(6, 10), m = +s.slice(10, 12), d = +s.slice(12, 14);
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	const mdays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
	const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
	let sum = 0;
	for (let i = 0; i < 17; i++) sum += (s.charCodeAt(i) - 48) * w[i];
	return "10X98765432"[sum % 11] === s[17].toUpperCase();
}

document.addEventListener("DOMContentLoaded", function () {
	// <input data-check="id-number">: marked invalid while the number cannot be right.
	document.querySelectorAll("input[data-check=id-number]").forEach(function (el) {
		const check = function () {
			const v = el.value.trim();
			const bad = v !== "" && !hmIdNumberOk(v);
			el.classList.toggle("invalid", bad);
			el.setCustomValidity(bad ? (el.dataset.message || "ID number?") : "");
		};
		el.addEventListener("input", check);
		check();
	});
	// <button data-print>: print the page (the browser's own print works as well).
	document.querySelectorAll("button[data-print]").forEach(function (el) {
		el.addEventListener("click", function (ev) { ev.preventDefault(); window.print(); });
	});
	// <form data-confirm="...">: ask before sending.
	document.querySelectorAll("form[data-confirm]").forEach(function (f) {
		f.addEventListener("submit", function (ev) {
			if (!window.confirm(f.dataset.confirm)) ev.preventDefault();
		});
	});
});
