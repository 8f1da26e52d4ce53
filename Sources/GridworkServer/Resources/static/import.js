// The import wizard: send the chosen file as the request body, show the dry run, then confirm.
const form = document.getElementById("import-upload");
const preview = document.getElementById("import-preview");
const failure = document.getElementById("import-error");
const busy = document.getElementById("import-busy");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) return;
  failure.hidden = true;
  preview.hidden = true;
  busy.hidden = false;
  try {
    const answer = await fetch("/registry/import/upload", {
      method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": form.dataset.csrf },
    });
    const data = await answer.json();
    if (!answer.ok) throw new Error(data.error ? data.error.message : answer.statusText);
    for (const key of ["rows", "created", "updated", "unchanged", "rejected"]) {
      preview.querySelector(`[data-k="${key}"]`).textContent = data[key].toLocaleString("zh-CN");
    }
    const notes = [`编码 ${data.encoding}`];
    if (data.conflicts) notes.push(`${data.conflicts} 人姓名与登记不同,将按文件更新`);
    if (data.unknownHeaders.length) notes.push(`未识别的列将被忽略:${data.unknownHeaders.join("、")}`);
    preview.querySelector('[data-k="notes"]').textContent = notes.join(";");
    const report = document.getElementById("import-report");
    report.hidden = !data.report;
    if (data.report) report.href = data.report;
    document.getElementById("import-confirm").action = `/registry/import/${data.digest}/confirm`;
    preview.hidden = false;
  } catch (error) {
    failure.textContent = error.message;
    failure.hidden = false;
  } finally {
    busy.hidden = true;
  }
});
