App({ onLaunch() { console.log("sandbox shop") } })
