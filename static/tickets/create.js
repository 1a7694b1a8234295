/* Create-ticket form: when the group changes, offer that group's members as the person. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-member-options]");
    if (!form) return;
    var group = form.querySelector("#id_group");
    var person = form.querySelector("#id_assignee");
    if (!group || !person) return;
    group.addEventListener("change", function () {
      var url = form.dataset.memberOptions + "?group=" + encodeURIComponent(group.value);
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { person.innerHTML = html; })
        .catch(function () { person.innerHTML = '<option value="">---------</option>'; });
    });
  });
})();
